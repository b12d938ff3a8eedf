"""Limits read from botocore's service models: lengths, ranges, patterns and enums of every request member.

botocore validates types, required members and minimums before it sends a request
(a ParamValidationError, raised before anything is sent), but not maximum lengths,
maximum values, patterns or enums; AWS checks those on its side, and they are here. Source of every constraint here: the service's botocore model
(`botocore.session.get_session().get_service_model(service)`), shape by shape.
Patterns are Java regexes (`\\p{L}`, `\\p{Alnum}`), matched whole with the `regex` module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import regex

MAX_DEPTH = 12  # recursive shapes (e.g. SageMaker's nested configs) are cut off here


@dataclass(frozen=True)
class Constraint:
    """One limit of one member of an operation's input, as the model states it."""

    service: str
    operation: str
    path: str  # e.g. AlgorithmSpecification.MetricDefinitions[].Name
    kind: str  # max | pattern | enum (botocore itself checks min before sending)
    value: Any

    @property
    def source(self) -> str:
        return f"botocore model {self.service}.{self.operation}: {self.path} {self.kind}"


@cache
def _model(service: str):
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


# Some models write Java's UTF-16 view of "any character beyond the BMP" as a surrogate-pair range,
# which Python's engines read as a reversed range: say it as the code points it means.
_JAVA_SURROGATE_RANGE = r"\uD800\uDC00-\uDBFF\uDFFF"


@cache
def _pattern(text: str) -> regex.Pattern:
    return regex.compile(text.replace(_JAVA_SURROGATE_RANGE, r"\U00010000-\U0010FFFF"))


def constraints(service: str, operation: str) -> list[Constraint]:
    """Every constraint of the operation's input, walking its shapes (for counting and reporting)."""
    shape = _model(service).operation_model(operation).input_shape
    return list(_walk(service, operation, shape, "", 0)) if shape is not None else []


def _walk(service: str, operation: str, shape, path: str, depth: int) -> Iterator[Constraint]:
    if depth > MAX_DEPTH:
        return
    for kind in ("max", "pattern"):
        if kind in shape.metadata:
            yield Constraint(service, operation, path or "(input)", kind, shape.metadata[kind])
    if getattr(shape, "enum", None):
        yield Constraint(service, operation, path, "enum", tuple(shape.enum))
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            yield from _walk(service, operation, member, f"{path}.{name}" if path else name, depth + 1)
    elif shape.type_name == "list":
        yield from _walk(service, operation, shape.member, path + "[]", depth + 1)
    elif shape.type_name == "map":
        yield from _walk(service, operation, shape.key, path + "{key}", depth + 1)
        yield from _walk(service, operation, shape.value, path + "{value}", depth + 1)


def violations(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """What of `params` the model's limits refuse, one sentence each, with the member's path."""
    shape = _model(service).operation_model(operation).input_shape
    if shape is None:
        return []
    found: list[str] = []
    _check(shape, params, "", found, 0)
    return [f"{operation}: {problem} (botocore model of {service})" for problem in found]


def _size(shape, value: Any) -> int | float | None:
    if shape.type_name in ("string",):
        return len(value) if isinstance(value, str) else None
    if shape.type_name == "blob":
        if isinstance(value, (bytes, bytearray)):
            return len(value)
        return len(value.encode()) if isinstance(value, str) else None  # file objects are streamed, not measured
    if shape.type_name in ("list", "map"):
        return len(value) if isinstance(value, (list, tuple, dict)) else None
    if shape.type_name in ("integer", "long", "float", "double"):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return None


def _check(shape, value: Any, path: str, found: list[str], depth: int) -> None:
    if depth > MAX_DEPTH or value is None:
        return
    where = path or "(input)"
    size = _size(shape, value)
    unit = "" if shape.type_name in ("integer", "long", "float", "double") else " long"
    if size is not None and "max" in shape.metadata and size > shape.metadata["max"]:
        found.append(f"{where} is {size}{unit}; the maximum is {shape.metadata['max']}")
    if isinstance(value, str) and shape.type_name == "string":
        pattern = shape.metadata.get("pattern")
        if pattern and not _pattern(pattern).fullmatch(value):
            found.append(f"{where} {value[:80]!r} does not match {pattern!r}")
        if getattr(shape, "enum", None) and value not in shape.enum:
            found.append(f"{where} {value!r} is not one of {list(shape.enum)[:12]}")
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, item in value.items():
            member = shape.members.get(name)
            if member is not None:
                _check(member, item, f"{path}.{name}" if path else name, found, depth + 1)
    elif shape.type_name == "list" and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(shape.member, item, f"{where}[{i}]", found, depth + 1)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            _check(shape.key, key, f"{where}{{{key}}} (key)", found, depth + 1)
            _check(shape.value, item, f"{where}{{{key}}}", found, depth + 1)
