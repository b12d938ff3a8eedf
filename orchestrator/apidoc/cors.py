"""CORS as the document states it: which headers each kind of response carries.

`*` without credentials answers `*`; otherwise an allowed request Origin is echoed (with
`Vary: Origin`, by a response override in the template) and a foreign one gets no
Allow-Origin. Preflights add methods, headers and max age. Lambda proxy responses carry
what the function returns: the document cannot add headers to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..spec.models import Cors
from .templates import origin_echo

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


def quoted(value: str) -> str:
    """API Gateway takes static header values as single-quoted literals (no quote inside)."""
    return "'" + value.replace("'", "") + "'"


def static_allow_origin(cors: Cors) -> str | None:
    """`*` when any origin may call without credentials; None when the origin must be echoed."""
    return "*" if cors.any_origin else None


def allow_methods(cors: Cors, methods: Iterable[str]) -> str:
    expanded = {"OPTIONS"}
    for method in cors.allow_methods or methods:
        expanded.update(ALL_METHODS if method.upper() in ("ANY", "*") else [method.upper()])
    return ",".join(method for method in ALL_METHODS if method in expanded)


@dataclass(frozen=True)
class CorsHeaders:
    """Headers one kind of response carries: all it declares, the static values, the echo template."""

    declared: tuple[str, ...] = ()
    static: dict[str, str] = field(default_factory=dict)
    echo_template: str = ""  # VTL prepended to the response template; empty when the origin is static

    def parameters(self, prefix: str = "method.response.header.") -> dict[str, str]:
        return {prefix + name: quoted(value) for name, value in self.static.items()}


NO_CORS = CorsHeaders()


def response_headers(cors: Cors | None) -> CorsHeaders:
    """For real (non-preflight) responses API Gateway maps itself (direct routes)."""
    if cors is None:
        return NO_CORS
    static: dict[str, str] = {}
    origin = static_allow_origin(cors)
    if origin:
        static[ALLOW_ORIGIN] = origin
    if cors.expose_headers:
        static["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
    if cors.allow_credentials:
        static["Access-Control-Allow-Credentials"] = "true"
    return _headers(static, echo=origin is None, cors=cors)


def preflight_headers(cors: Cors, methods: Iterable[str]) -> CorsHeaders:
    """For OPTIONS: the response headers (less Expose, meaningless there) plus methods, headers, max age."""
    base = response_headers(cors)
    static = {name: value for name, value in base.static.items() if name != "Access-Control-Expose-Headers"}
    static["Access-Control-Allow-Methods"] = allow_methods(cors, methods)
    static["Access-Control-Allow-Headers"] = ",".join(cors.allow_headers)
    static["Access-Control-Max-Age"] = str(cors.max_age_s)
    return _headers(static, echo=bool(base.echo_template), cors=cors)


def _headers(static: dict[str, str], echo: bool, cors: Cors) -> CorsHeaders:
    declared = [ALLOW_ORIGIN, *(name for name in static if name != ALLOW_ORIGIN)]
    if echo:
        declared.append("Vary")
    return CorsHeaders(tuple(declared), static, origin_echo(cors.allow_origins) if echo else "")


def gateway_response_parameters(cors: Cors, methods: Iterable[str]) -> dict[str, str]:
    """Errors API Gateway raises itself (missing key, throttled, timeout) carry CORS headers too,
    so a browser can read them. Gateway responses have no VTL, so without a static origin
    they echo the request's Origin as it is (only error bodies are exposed that way).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseParameters.html
    """
    headers = preflight_headers(cors, methods)
    static = {name: value for name, value in headers.static.items() if name != "Access-Control-Max-Age"}
    if cors.expose_headers:
        static["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
    parameters = {f"gatewayresponse.header.{name}": quoted(value) for name, value in static.items()}
    if static_allow_origin(cors) is None:
        parameters[f"gatewayresponse.header.{ALLOW_ORIGIN}"] = "method.request.header.Origin"
        parameters["gatewayresponse.header.Vary"] = quoted("Origin")
    return parameters
