"""The reference syntax: `${steps.STEP.outputs.OUTPUT}`, resolved at execution time."""

import re

REF = re.compile(r"\$\{steps\.([^.}]+)\.outputs\.([^.}]+)\}")
ANY_REF = re.compile(r"\$\{([^}]*)\}")
