"""YAML anchors and aliases, bounded: a spec may repeat a few values, never itself or a billion.

PyYAML composes an alias as the very node it names, so `a: &a [*a, *a]` is a node
inside itself and nine lines of nested aliases are 10^9 values once expanded. The
builder stops at the first sign of either; this module then reads the text's events
(which, unlike composed nodes, remember where each alias was written) to say where.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..diagnostics import PathT

MAX_ALIAS_NODES = 10_000  # values aliases may add to a spec in all; sharing a few settings needs far fewer


@dataclass(frozen=True)
class AliasProblem:
    line: int
    col: int
    path: PathT
    message: str
    hint: str


@dataclass
class _Anchor:
    line: int
    size: int | None = None  # values the anchored node expands to; None while it is still open


@dataclass
class _Open:
    """A mapping or list being read: its anchor, the values in it so far, and where its next item goes."""

    anchor: _Anchor | None
    mapping: bool
    size: int = 1
    items: int = 0  # events read inside it (a mapping's keys and values alternate)
    key: str | int = 0
    keys: list[str] = field(default_factory=list)

    def place(self, event: yaml.Event) -> None:
        """Note where `event`, the next item, sits: a key names the value after it."""
        if not self.mapping:
            self.key = self.items
        elif self.items % 2 == 0:
            self.key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
        self.items += 1


def alias_problems(text: str, loader: type) -> list[AliasProblem]:
    """Every alias inside the value it names, and the alias that takes the expansion past the budget."""
    anchors: dict[str, _Anchor] = {}
    stack: list[_Open] = []
    added = 0
    problems: list[AliasProblem] = []
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.DocumentStartEvent):
            anchors.clear()
            continue
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            done = stack.pop()
            if done.anchor is not None:
                done.anchor.size = done.size
            if stack:
                stack[-1].size += done.size
            continue
        if not isinstance(event, (yaml.AliasEvent, yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            continue
        if stack:
            stack[-1].place(event)
        line = event.start_mark.line + 1
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            anchor = None
            if event.anchor:
                anchor = anchors[event.anchor] = _Anchor(line)
            stack.append(_Open(anchor, isinstance(event, yaml.MappingStartEvent)))
            continue
        size = 1
        if isinstance(event, yaml.ScalarEvent) and event.anchor:
            anchors[event.anchor] = _Anchor(line, 1)
        if isinstance(event, yaml.AliasEvent):
            at = (line, event.start_mark.column + 1, _path(stack))
            named = anchors.get(event.anchor)
            if named is not None and named.size is None:
                problems.append(_inside_itself(at, event.anchor, named.line))
            elif named is not None:
                size = named.size or 1
            if added <= MAX_ALIAS_NODES < added + size:
                problems.append(_past_budget(at, event.anchor))
            added += size
        if stack:
            stack[-1].size += size
    return problems


def _path(stack: list[_Open]) -> PathT:
    return tuple(frame.key for frame in stack if frame.items)


def _inside_itself(at: tuple[int, int, PathT], name: str, anchor_line: int) -> AliasProblem:
    return AliasProblem(
        *at,
        f"alias '*{name}' is inside the value anchored '&{name}' (line {anchor_line}), so that value would contain itself",
        "an alias can repeat a value only from outside it",
    )


def _past_budget(at: tuple[int, int, PathT], name: str) -> AliasProblem:
    return AliasProblem(
        *at,
        f"alias '*{name}' takes what aliases repeat past {MAX_ALIAS_NODES:,} values",
        f"a spec's anchors (&) and aliases (*) may repeat at most {MAX_ALIAS_NODES:,} values in all: "
        "write shared parts out fewer times",
    )
