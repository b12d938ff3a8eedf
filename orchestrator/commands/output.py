"""Results go to stdout (for pipes and scripts); progress and problems go to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def emit_json(value: Any) -> None:
    emit(json.dumps(value, indent=2, sort_keys=True, default=str))
