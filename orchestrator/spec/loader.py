"""Load YAML into plain data while keeping the line and column of every key and value.

The positions are what let every later diagnostic point at `FILE:LINE:COL`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..diagnostics import Diagnostic, PathT
from ..errors import DiagnosticError

MAX_SPEC_BYTES = 1024 * 1024
MAX_DEPTH = 64
ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"


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
    builder = _Builder(doc, env, strict_env)
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
    doc.data = builder.build(root, ())
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


class _Builder:
    """Turns a composed node tree into plain data, recording positions and problems."""

    def __init__(self, doc: Document, env: Mapping[str, str], strict_env: bool = True):
        self.doc = doc
        self.env = env
        self.strict_env = strict_env
        self.problems: list[Diagnostic] = []
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def _at(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def problem(self, node: yaml.Node, path: PathT, message: str, hint: str | None = None) -> None:
        line, col = self._at(node)
        self.problems.append(Diagnostic(self.doc.file, line, col, path, message, hint))

    def build(self, node: yaml.Node, path: PathT) -> Any:
        self.doc.positions[path] = self._at(node)
        if len(path) > MAX_DEPTH:
            self.problem(node, path, f"nesting deeper than {MAX_DEPTH} levels")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problem(key_node, path, "YAML merge keys ('<<') are not supported", "write the keys out")
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problem(key_node, path, "mapping keys must be plain strings")
                    continue
                key = key_node.value if key_node.tag == _STR else str(self.constructor.construct_object(key_node))
                if key in out:
                    first = self.doc.key_positions[path + (key,)]
                    self.problem(
                        key_node,
                        path + (key,),
                        f"duplicate key '{key}' (first defined at line {first[0]})",
                        "remove one of them; YAML would silently keep only the last",
                    )
                    continue
                self.doc.key_positions[path + (key,)] = self._at(key_node)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        # A string is its text (what SafeConstructor returns, without its bookkeeping per node).
        value = node.value if node.tag == _STR else self.constructor.construct_object(node)
        if isinstance(value, str) and "${env:" in value:
            value = self._interpolate(node, path, value)
        return value

    def _interpolate(self, node: yaml.Node, path: PathT, value: str) -> Any:
        missing: list[str] = []

        def sub(m: re.Match) -> str:
            name, default = m.group(1), m.group(2)
            if name in self.env:
                return self.env[name]
            if default is not None:
                return default
            missing.append(name)
            return m.group(0)

        result = ENV_REF.sub(sub, value)
        self.doc.interpolated[path] = value
        if not self.strict_env:
            missing.clear()
        for name in missing:
            self.problem(
                node,
                path,
                f"environment variable '{name}' is not set",
                f"export {name}=..., or give a default: ${{env:{name}:-value}}",
            )
        whole = ENV_REF.fullmatch(value)
        if whole and not missing:
            # A value that is only a reference takes the type the text reads as: `count: ${env:N}` is an int.
            try:
                typed = yaml.load(result, Loader=_Loader)
            except yaml.YAMLError:
                return result
            if isinstance(typed, (str, int, float, bool)) or typed is None:
                return typed
        return result
