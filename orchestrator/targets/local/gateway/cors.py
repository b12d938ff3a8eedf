"""CORS as the spec's `cors:` block configures it: preflights and headers on every answer."""

from __future__ import annotations

from ..daemon.protocol import CorsRequest

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class CorsPolicy:
    def __init__(self, cors: CorsRequest | None, route_methods: set[str]):
        self.cors = cors
        if cors is None:
            return
        self._any_origin = "*" in cors.allow_origins
        self._origins = {o.rstrip("/") for o in cors.allow_origins}
        methods = cors.allow_methods or sorted(route_methods)
        expanded = set()
        for method in methods:
            expanded.update(ALL_METHODS if method.upper() in ("ANY", "*") else [method.upper()])
        expanded.add("OPTIONS")
        self._methods = ",".join(m for m in ALL_METHODS if m in expanded)

    @property
    def enabled(self) -> bool:
        return self.cors is not None

    def _allow_origin(self, origin: str | None) -> str | None:
        cors = self.cors
        if self._any_origin and not cors.allow_credentials:
            return "*"
        if origin is None:
            return None
        if self._any_origin or origin.rstrip("/") in self._origins:
            return origin  # credentials forbid "*", so the origin is echoed
        return None

    def response_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """Headers every response carries, errors included; none for a foreign origin."""
        if self.cors is None:
            return []
        allowed = self._allow_origin(origin)
        if allowed is None:
            return []
        headers = [("access-control-allow-origin", allowed)]
        if allowed != "*":
            headers.append(("vary", "Origin"))
        if self.cors.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.cors.expose_headers:
            headers.append(("access-control-expose-headers", ",".join(self.cors.expose_headers)))
        return headers

    def preflight_headers(self, origin: str | None) -> list[tuple[str, str]]:
        headers = self.response_headers(origin)
        if not headers:
            return []
        return headers + [
            ("access-control-allow-methods", self._methods),
            ("access-control-allow-headers", ",".join(self.cors.allow_headers)),
            ("access-control-max-age", str(self.cors.max_age_s)),
        ]
