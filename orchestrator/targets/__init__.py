"""Targets by name, imported only when a run needs one (aws pulls in boto3)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the package stays free to import: the local built-ins run as its modules
    from .base import Target

TARGETS = {
    "local": "orchestrator.targets.local:LocalTarget",
    "aws": "orchestrator.targets.aws:AwsTarget",
}


def load_target(name: str) -> type[Target]:
    module, _, attr = TARGETS[name].partition(":")
    return getattr(importlib.import_module(module), attr)
