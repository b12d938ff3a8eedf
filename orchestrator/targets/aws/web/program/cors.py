"""CORS for a REST API: preflight (OPTIONS + MOCK), headers on responses, and on errors.

Same rules as the local gateway: `*` without credentials answers `*`; otherwise
an allowed request Origin is echoed (with `Vary: Origin`) and a foreign one gets
no Allow-Origin. API Gateway cannot compute that from static values, so the
echo is a response override in the mapping template. DEFAULT_4XX/DEFAULT_5XX
gateway responses carry the headers so a browser can read errors (403, 429,
504) too; Lambda proxy routes get theirs from `lambda_shim.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .... import lambda_shim
from .settings import CorsSettings

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


def quoted(value: str) -> str:
    """API Gateway takes static header values as single-quoted literals."""
    return "'" + value.replace("'", "") + "'"


def static_allow_origin(cors: CorsSettings) -> str | None:
    """`*` when any origin may call without credentials; None when the origin must be echoed."""
    return "*" if "*" in cors.allow_origins and not cors.allow_credentials else None


def allow_methods(cors: CorsSettings, methods: Iterable[str]) -> str:
    expanded = {"OPTIONS"}
    for method in cors.allow_methods or methods:
        expanded.update(ALL_METHODS if method.upper() in ("ANY", "*") else [method.upper()])
    return ",".join(method for method in ALL_METHODS if method in expanded)


def origin_echo_template(cors: CorsSettings) -> str:
    """VTL that sets Allow-Origin (and Vary) to the request's Origin when that origin is allowed."""
    if "*" in cors.allow_origins:
        allowed = "true"
    else:
        allowed = " || ".join(f"$origin == {json.dumps(origin.rstrip('/'))}" for origin in cors.allow_origins)
    return (
        '#set($origin = $input.params().header.get("Origin"))\n'
        '#if(!$origin)#set($origin = $input.params().header.get("origin"))#end\n'
        f"#if($origin && ({allowed}))\n"
        f"#set($context.responseOverride.header.{ALLOW_ORIGIN} = $origin)\n"
        '#set($context.responseOverride.header.Vary = "Origin")\n'
        "#end\n"
    )


@dataclass(frozen=True)
class CorsHeaders:
    """Headers one kind of response carries: names declared on the method response, static values, echo."""

    declared: tuple[str, ...]
    static: dict[str, str] = field(default_factory=dict)
    echo_template: str | None = None

    def method_response_parameters(self) -> dict[str, bool]:
        return {f"method.response.header.{name}": True for name in self.declared}

    def integration_response_parameters(self) -> dict[str, str]:
        return {f"method.response.header.{name}": quoted(value) for name, value in self.static.items()}


def response_headers(cors: CorsSettings | None) -> CorsHeaders:
    """For real (non-preflight) responses of integrations API Gateway maps (direct routes)."""
    if cors is None:
        return CorsHeaders(declared=())
    static: dict[str, str] = {}
    origin = static_allow_origin(cors)
    if origin:
        static[ALLOW_ORIGIN] = origin
    if cors.expose_headers:
        static["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
    if cors.allow_credentials:
        static["Access-Control-Allow-Credentials"] = "true"
    declared = [ALLOW_ORIGIN, *(name for name in static if name != ALLOW_ORIGIN)]
    if origin is None:
        declared.append("Vary")
    return CorsHeaders(tuple(declared), static, None if origin else origin_echo_template(cors))


def preflight_headers(cors: CorsSettings, methods: Iterable[str]) -> CorsHeaders:
    """For OPTIONS: the response headers (less Expose, meaningless there) plus methods, headers, max age."""
    base = response_headers(cors)
    static = {name: value for name, value in base.static.items() if name != "Access-Control-Expose-Headers"}
    static.update(
        {
            "Access-Control-Allow-Methods": allow_methods(cors, methods),
            "Access-Control-Allow-Headers": ",".join(cors.allow_headers),
            "Access-Control-Max-Age": str(cors.max_age_s),
        }
    )
    declared = [ALLOW_ORIGIN, *(name for name in static if name != ALLOW_ORIGIN)]
    if base.echo_template:
        declared.append("Vary")
    return CorsHeaders(tuple(declared), static, base.echo_template)


def lambda_shim_policy(cors: CorsSettings) -> dict:
    """What the Lambda shim needs to add the same headers to proxy responses."""
    return lambda_shim.policy_of(cors)


def add_preflight(
    name: str,
    rest_api: aws.apigateway.RestApi,
    resource_id: pulumi.Input[str],
    cors: CorsSettings,
    methods: Iterable[str],
) -> list[pulumi.Resource]:
    """OPTIONS on one resource path, answered by API Gateway itself (no backend call, no API key)."""
    headers = preflight_headers(cors, methods)
    method = aws.apigateway.Method(
        f"{name}-options",
        rest_api=rest_api.id,
        resource_id=resource_id,
        http_method="OPTIONS",
        authorization="NONE",
        api_key_required=False,
    )
    integration = aws.apigateway.Integration(
        f"{name}-options",
        rest_api=rest_api.id,
        resource_id=resource_id,
        http_method=method.http_method,
        type="MOCK",
        request_templates={"application/json": '{"statusCode": 200}'},
        passthrough_behavior="WHEN_NO_MATCH",
    )
    method_response = aws.apigateway.MethodResponse(
        f"{name}-options-200",
        rest_api=rest_api.id,
        resource_id=resource_id,
        http_method=method.http_method,
        status_code="200",
        response_models={"application/json": "Empty"},
        response_parameters=headers.method_response_parameters(),
    )
    integration_response = aws.apigateway.IntegrationResponse(
        f"{name}-options-200",
        rest_api=rest_api.id,
        resource_id=resource_id,
        http_method=method.http_method,
        status_code=method_response.status_code,
        response_parameters=headers.integration_response_parameters(),
        response_templates={"application/json": headers.echo_template} if headers.echo_template else None,
        opts=pulumi.ResourceOptions(depends_on=[integration]),
    )
    return [method, integration, method_response, integration_response]


def add_gateway_responses(
    name: str, rest_api: aws.apigateway.RestApi, cors: CorsSettings, methods: Iterable[str]
) -> list[pulumi.Resource]:
    """Errors API Gateway raises itself (missing key, throttled, timeout) carry CORS headers too.

    Gateway responses have no templates: without a static origin they echo the
    request's Origin as it is (only error bodies are exposed that way).
    """
    headers = preflight_headers(cors, methods)
    parameters = {f"gatewayresponse.header.{header}": quoted(value) for header, value in headers.static.items()}
    parameters.pop("gatewayresponse.header.Access-Control-Max-Age")
    if static_allow_origin(cors) is None:
        parameters[f"gatewayresponse.header.{ALLOW_ORIGIN}"] = "method.request.header.Origin"
        parameters["gatewayresponse.header.Vary"] = quoted("Origin")
    if cors.expose_headers:
        parameters["gatewayresponse.header.Access-Control-Expose-Headers"] = quoted(",".join(cors.expose_headers))
    return [
        aws.apigateway.Response(
            f"{name}-{response_type.lower().replace('_', '-')}",
            rest_api_id=rest_api.id,
            response_type=response_type,
            response_parameters=parameters,
        )
        for response_type in ("DEFAULT_4XX", "DEFAULT_5XX")
    ]
