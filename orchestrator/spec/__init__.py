"""The spec: load, models, kinds, checks, schema."""

# The models first: step models in modules of their own build on them (see models.py).
from . import models as models
