"""From YAML's composed nodes to plain data, recording where each part was written.

It collects every problem instead of stopping at the first, except for aliases that
would never end (a value inside itself, or an expansion past the budget): those stop
it at once, since going on is exactly what must not happen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from ..diagnostics import Diagnostic, PathT
from .aliases import MAX_ALIAS_NODES
from .scalars import MERGE, STR, ScalarProblem, check_text, collection_problem, read_scalar, typed_text

if TYPE_CHECKING:
    from .loader import Document

MAX_DEPTH = 64
ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class AliasTrouble(Exception):
    """An alias names a value it is inside, or aliases expand past MAX_ALIAS_NODES: stop building."""

    def __init__(self, node: yaml.Node, path: PathT):
        super().__init__("alias expansion stopped")
        self.node, self.path = node, path


class Builder:
    """Turns a composed node tree into plain data, recording positions and problems."""

    def __init__(self, doc: Document, env: Mapping[str, str], strict_env: bool = True):
        self.doc = doc
        self.env = env
        self.strict_env = strict_env
        self.problems: list[Diagnostic] = []
        self._open: set[int] = set()  # collections being built: meeting one again is a cycle
        self._seen: set[int] = set()  # collections built once: meeting one again is an alias
        self._aliased = 0  # depth inside an alias's value
        self._expanded = 0  # values built again because an alias repeats them

    def _at(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def problem(self, node: yaml.Node, path: PathT, message: str, hint: str | None = None) -> None:
        line, col = self._at(node)
        self.problems.append(Diagnostic(self.doc.file, line, col, path, message, hint))

    def build(self, node: yaml.Node, path: PathT) -> Any:
        self.doc.positions[path] = self._at(node)
        key = id(node)
        scalar = isinstance(node, yaml.ScalarNode)
        again = not scalar and key in self._seen
        if self._aliased or again:
            self._expanded += 1
            if self._expanded > MAX_ALIAS_NODES or key in self._open:
                raise AliasTrouble(node, path)
        if len(path) > MAX_DEPTH:
            self.problem(node, path, f"nesting deeper than {MAX_DEPTH} levels")
            return None
        if scalar:
            return self._scalar(node, path)
        self._seen.add(key)
        self._open.add(key)
        self._aliased += again
        try:
            trouble = collection_problem(node)
            if trouble is not None:
                self.problem(node, path, trouble.message, trouble.hint)
                return None
            return self._mapping(node, path) if isinstance(node, yaml.MappingNode) else self._sequence(node, path)
        finally:
            self._aliased -= again
            self._open.discard(key)

    def _sequence(self, node: yaml.SequenceNode, path: PathT) -> list[Any]:
        return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]

    def _mapping(self, node: yaml.MappingNode, path: PathT) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                self.problem(key_node, path, "YAML merge keys ('<<') are not supported", "write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, "mapping keys must be plain strings")
                continue
            try:
                key = key_node.value if key_node.tag == STR else str(read_scalar(key_node, key=True))
                check_text(key)
            except ScalarProblem as exc:
                self.problem(key_node, path, f"mapping key: {exc.message}", exc.hint)
                continue
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

    def _scalar(self, node: yaml.ScalarNode, path: PathT) -> Any:
        # A string is its text (what SafeConstructor returns, without its bookkeeping per node).
        try:
            value = check_text(node.value) if node.tag == STR else read_scalar(node)
        except ScalarProblem as exc:
            self.problem(node, path, exc.message, exc.hint)
            return None
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
        try:
            check_text(result)
        except ScalarProblem as exc:  # the value may be a secret: name the variable, never the value
            self.problem(node, path, f"the value of {value}: {exc.message}", "remove it from the variable's value")
            return None
        if ENV_REF.fullmatch(value) and not missing:
            # A value that is only a reference takes the type the text reads as: `count: ${env:N}` is an int.
            return typed_text(result)
        return result
