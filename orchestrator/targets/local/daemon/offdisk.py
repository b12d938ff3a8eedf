"""Values a service is given that must never reach a file: those the spec took from ${env:...}.

The client names where they are in a request; the daemon serves them from memory and writes
null in their place, so a restarted daemon knows what it cannot serve until the next run.
Standard library only, as protocol.py that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

FieldPath = tuple[str | int, ...]  # keys and list indices from a request's JSON down to one value


def _functions(spec: dict) -> Iterable[tuple[FieldPath, Any]]:
    for index, function in enumerate(spec.get("functions") or []):
        if isinstance(function, dict):
            yield ("functions", index, "environment"), function.get("environment")


# Where each service's requests hold environments (a version-4 record is read as keeping all of them off disk).
ENVIRONMENTS: dict[str, Callable[[dict], Iterable[tuple[FieldPath, Any]]]] = {
    "endpoints": lambda spec: [(("environment",), spec.get("environment"))],
    "apis": _functions,
}


def secret_paths(data: Any, values: frozenset[str], at: FieldPath = ()) -> tuple[FieldPath, ...]:
    """Where in `data` (a request as JSON) a string equal to one of `values` sits.

    Matching by value, not by spec path, finds a value wherever the handler put it; a
    value that is also written elsewhere in the spec is kept off disk there too, which
    costs nothing: the service needs a run after a restart either way."""
    if isinstance(data, str):
        return (at,) if data and data in values else ()
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list | tuple):
        items = enumerate(data)
    else:
        return ()
    return tuple(path for key, value in items for path in secret_paths(value, values, (*at, key)))


def without(data: Any, paths: tuple[FieldPath, ...]) -> Any:
    """A copy of `data` with each path's value replaced by null: what services.json keeps."""
    if not paths:
        return data
    copy = json.loads(json.dumps(data))
    for path in paths:
        holder = copy
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = None
    return copy


def value_at(data: Any, path: FieldPath) -> Any:
    """The value at `path` in `data`; KeyError, IndexError or TypeError when there is none."""
    for key in path:
        data = data[key]
    return data


def environment_paths(service: str, spec: Any) -> tuple[FieldPath, ...]:
    """Every environment value of a request as JSON: what a version-4 record is read as keeping off disk."""
    if not isinstance(spec, dict):
        return ()
    holders = list(ENVIRONMENTS.get(service, lambda _: ())(spec))
    return tuple((*at, key) for at, environment in holders if isinstance(environment, dict) for key in environment)


def without_environments(data: Any) -> Any:
    """A copy of `data` with null for every value of every `environment` mapping, at any depth:
    what a record of an older shape keeps (it never said which values came from ${env:...})."""
    if isinstance(data, list):
        return [without_environments(item) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        key: dict.fromkeys(value) if key == "environment" and isinstance(value, dict) else without_environments(value)
        for key, value in data.items()
    }
