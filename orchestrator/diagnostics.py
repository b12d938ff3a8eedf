"""Diagnostics: every user-facing problem says where, what, and what to do about it."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathT = tuple[str | int, ...]
_PLAIN = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(path: Sequence[str | int]) -> str:
    """`("steps", "api", "routes", 0, "path")` -> `steps.api.routes[0].path`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN.match(str(part)):
            out += f"[{json.dumps(str(part))}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    col: int
    path: PathT
    message: str
    hint: str | None = None
    severity: str = "error"

    def render(self) -> str:
        text = f"{self.file}:{self.line}:{self.col}: {self.severity}: {format_path(self.path)}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": format_path(self.path),
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A `did you mean 'x'?` hint for near misses, or None."""
    matches = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def allowed(choices: Iterable[str]) -> str:
    return "allowed values are " + ", ".join(f"'{c}'" for c in choices)
