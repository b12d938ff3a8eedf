"""Load YAML into plain data while keeping the line and column of every key and value.

The positions are what let every later diagnostic point at `FILE:LINE:COL`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..diagnostics import Diagnostic, PathT
from ..errors import DiagnosticError
from .aliases import alias_problems
from .builder import AliasTrouble, Builder

MAX_SPEC_BYTES = 1024 * 1024

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Document:
    """A loaded spec: its data plus where each part of it was written."""

    file: str
    data: Any
    text: str = ""
    positions: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    # values that came from ${env:...}: path -> the template as written (secrets must not be recorded)
    interpolated: dict[PathT, str] = field(default_factory=dict)

    def where(self, path: PathT, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the value at `path`, or of its key with `key=True`.

        Falls back to the nearest enclosing node that exists, so a missing field
        points at the mapping that should have held it.
        """
        path = tuple(path)
        while True:
            if key and path in self.key_positions:
                return self.key_positions[path]
            if path in self.positions:
                return self.positions[path]
            if not path:
                return (1, 1)
            path = path[:-1]
            key = False

    def diagnostic(self, path: PathT, message: str, hint: str | None = None, key: bool = False) -> Diagnostic:
        line, col = self.where(path, key=key)
        return Diagnostic(self.file, line, col, tuple(path), message, hint)


def load_file(
    path: str | os.PathLike, env: Mapping[str, str] | None = None, display: str | None = None, strict_env: bool = True
) -> Document:
    """Read and parse a spec file; raise DiagnosticError listing every problem found."""
    name = display or str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise DiagnosticError([Diagnostic(name, 1, 1, (), "file not found", "check the path")]) from None
    except OSError as exc:
        raise DiagnosticError([Diagnostic(name, 1, 1, (), f"cannot read the file: {exc.strerror}")]) from None
    if p.is_dir():
        raise DiagnosticError(
            [Diagnostic(name, 1, 1, (), "is a folder, not a spec file", "pass the pipeline.yaml inside it")]
        )
    if size > MAX_SPEC_BYTES:
        raise DiagnosticError(
            [
                Diagnostic(
                    name,
                    1,
                    1,
                    (),
                    f"file is {size} bytes; the limit is {MAX_SPEC_BYTES}",
                    "a pipeline spec should be small: move data into files it references",
                )
            ]
        )
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DiagnosticError([Diagnostic(name, line, 1, (), "file is not valid UTF-8", "save it as UTF-8")]) from None
    return load_text(text, name, env=env, strict_env=strict_env)


def load_text(
    text: str, file: str = "<string>", env: Mapping[str, str] | None = None, strict_env: bool = True
) -> Document:
    """Parse a spec. With `strict_env=False` (read-only commands such as status), an unset
    ${env:NAME} stays as written instead of being an error."""
    env = os.environ if env is None else env
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise DiagnosticError(
            [Diagnostic(file, 1, 1, (), "file is empty", "start from the example pipeline.yaml in the README")]
        )
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.reader.ReaderError as exc:
        raise DiagnosticError([_reader_diagnostic(file, text, exc)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}; {problem}"
        raise DiagnosticError(
            [Diagnostic(file, line, col, (), f"YAML syntax error: {problem}", _syntax_hint(text, line))]
        ) from None
    except yaml.YAMLError as exc:
        raise DiagnosticError([Diagnostic(file, 1, 1, (), f"YAML error: {exc}")]) from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise DiagnosticError(
            [Diagnostic(file, 1, 1, (), "file is empty", "start from the example pipeline.yaml in the README")]
        )
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise DiagnosticError(
            [
                Diagnostic(
                    file,
                    mark.line + 1,
                    mark.column + 1,
                    (),
                    "the file holds more than one YAML document",
                    "keep one pipeline per file; remove the '---' separator",
                )
            ]
        )
    doc = Document(file=file, data=None, text=text)
    builder = Builder(doc, env, strict_env)
    root = nodes[0]
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise DiagnosticError(
            [
                Diagnostic(
                    file,
                    root.start_mark.line + 1,
                    root.start_mark.column + 1,
                    (),
                    f"the document must be a mapping of keys to values, found {kind}",
                    "a spec starts with keys such as 'name:' and 'steps:'",
                )
            ]
        )
    try:
        doc.data = builder.build(root, ())
    except AliasTrouble as trouble:
        raise DiagnosticError(_alias_diagnostics(file, text, trouble)) from None
    if builder.problems:
        raise DiagnosticError(builder.problems)
    return doc


def _syntax_hint(text: str, line: int) -> str:
    lines = text.splitlines()
    near = " ".join(lines[max(0, line - 2) : line])
    if "${" in near and "{" in near.replace("${", ""):
        return (
            "inside {...} a '}' ends the mapping: quote values that hold ${...}, e.g. endpoint: '${steps.x.outputs.y}'"
        )
    if "\t" in near:
        return "YAML does not allow tabs for indentation: use spaces"
    return "check indentation and quoting near this point"


def _reader_diagnostic(file: str, text: str, exc: yaml.reader.ReaderError) -> Diagnostic:
    """A character YAML does not allow (a control character), at its line and column.

    libyaml gives its offset in the UTF-8 bytes of the text; PyYAML's own reader, in characters.
    """
    offset = exc.position
    if _Loader is not yaml.SafeLoader:
        offset = len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
    before = text[:offset]
    line = before.count("\n") + 1
    col = offset - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    return Diagnostic(
        file,
        line,
        col,
        (),
        f"the control character U+{char:04X} is not allowed in YAML",
        "remove it: editors often do not show it",
    )


def _alias_diagnostics(file: str, text: str, trouble: AliasTrouble) -> list[Diagnostic]:
    """Where the alias that never ends was written (the composed nodes have forgotten it)."""
    found = [Diagnostic(file, p.line, p.col, p.path, p.message, p.hint) for p in alias_problems(text, _Loader)]
    if found:
        return found
    mark = trouble.node.start_mark
    return [Diagnostic(file, mark.line + 1, mark.column + 1, trouble.path, "YAML aliases here never end")]
