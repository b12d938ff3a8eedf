"""Which route of an api step `invoke --route 'METHOD /path'` means.

The path is concrete (what a client sends, percent-encoding and all) and is matched
against the spec's route templates as API Gateway matches them: a literal segment
beats `{param}`, which beats a greedy `{param+}`; a route's own method beats ANY.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from ..errors import UsageError
from ..spec.models import ApiStep, Route

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
LITERAL, PARAMETER, GREEDY = 0, 1, 2


@dataclass(frozen=True)
class RouteCall:
    """The route a request goes to, and the concrete path (and query) it is sent with."""

    route: Route
    method: str
    path: str  # path and query string, as sent


def route_key(route: Route) -> str:
    return f"{route.method} {route.path}"


def pick_route(step_name: str, step: ApiStep, given: str | None, has_body: bool) -> RouteCall:
    """The route `given` names, or the api's only route; UsageError (exit 2) naming the routes otherwise."""
    if given is None:
        if len(step.routes) > 1:
            raise UsageError(
                f"api step '{step_name}' has {len(step.routes)} routes: pick one with --route 'METHOD /path'",
                _routes(step),
            )
        route = step.routes[0]
        if "{" in route.path:
            raise UsageError(
                f"route {route_key(route)} has path parameters: give a concrete path with --route",
                f"e.g. --route '{_example(route)}'",
            )
        method = route.method if route.method != "ANY" else ("POST" if has_body else "GET")
        return RouteCall(route, method, route.path)
    method, _, path = given.strip().partition(" ")
    method, path = method.upper(), path.strip()
    if method not in METHODS or not path.startswith("/"):
        raise UsageError(f"--route '{given}' is not METHOD /path", "e.g. --route 'POST /predict'; " + _routes(step))
    bare = path.partition("?")[0]
    ranked = [
        (rank, index, route)
        for index, route in enumerate(step.routes)
        if route.method in (method, "ANY") and (rank := _match(route.path, bare)) is not None
    ]
    if not ranked:
        raise UsageError(f"--route '{given}' matches no route of api step '{step_name}'", _routes(step))
    rank, _, route = min(ranked, key=lambda item: (item[0], item[2].method == "ANY", item[1]))
    return RouteCall(route, method, path)


def _match(template: str, path: str) -> tuple[int, ...] | None:
    """How specifically `template` matches `path` (lower is more specific), or None."""
    want, have = _segments(template), _segments(path)
    rank: list[int] = []
    for i, part in enumerate(want):
        if part.startswith("{") and part.endswith("+}"):
            return tuple(rank + [GREEDY]) if len(have) > i else None
        if i >= len(have):
            return None
        if part.startswith("{") and part.endswith("}"):
            rank.append(PARAMETER)
        elif unquote(have[i]) == part:
            rank.append(LITERAL)
        else:
            return None
    return tuple(rank) if len(have) == len(want) else None


def _segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part]


def _example(route: Route) -> str:
    parts = ["example" if part.startswith("{") else part for part in _segments(route.path)]
    return f"{'GET' if route.method == 'ANY' else route.method} /" + "/".join(parts)


def _routes(step: ApiStep) -> str:
    return "routes: " + ", ".join(route_key(route) for route in step.routes)
