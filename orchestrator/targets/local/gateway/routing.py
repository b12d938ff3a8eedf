"""API Gateway resource matching: `/items/{id}`, greedy `{proxy+}`, and ANY methods.

Like API Gateway, a literal segment beats a parameter, which beats a greedy one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
_PARAM = re.compile(r"^\{([A-Za-z0-9_]+)(\+?)\}$")


@dataclass
class Resource(Generic[T]):
    path: str  # the template, e.g. /items/{id}
    pattern: re.Pattern
    rank: tuple
    methods: dict[str, T]  # GET/POST/... or ANY -> route


def _compile(template: str) -> tuple[re.Pattern, tuple]:
    parts, rank = [], []
    segments = [s for s in template.strip("/").split("/") if s]
    for segment in segments:
        match = _PARAM.match(segment)
        if match is None:
            parts.append(re.escape(segment))
            rank.append(0)
        elif match.group(2):
            parts.append(f"(?P<{match.group(1)}>.+)")
            rank.append(2)
        else:
            parts.append(f"(?P<{match.group(1)}>[^/]+)")
            rank.append(1)
    pattern = "^/" + "/".join(parts) + "/?$" if parts else "^/?$"
    return re.compile(pattern), tuple(rank)


class Router(Generic[T]):
    def __init__(self) -> None:
        self._resources: dict[str, Resource[T]] = {}
        self._ordered: list[Resource[T]] = []

    def add(self, method: str, template: str, route: T) -> None:
        template = "/" + template.strip("/")
        resource = self._resources.get(template)
        if resource is None:
            pattern, rank = _compile(template)
            resource = self._resources[template] = Resource(template, pattern, rank, {})
            self._ordered = sorted(self._resources.values(), key=lambda r: r.rank)
        resource.methods[method.upper()] = route

    def resource_for(self, path: str) -> tuple[Resource[T], dict[str, str]] | None:
        for resource in self._ordered:
            match = resource.pattern.match(path)
            if match:
                return resource, match.groupdict()
        return None
