"""OpenAPI paths and operations from the routes: one path item per route path, one operation
per method (ANY is API Gateway's `x-amazon-apigateway-any-method`), plus an OPTIONS preflight
per path when CORS is on. Path parameters are named as in the route, greedy ones included
(`{proxy+}` declares `proxy+`, which is what the template names in OpenAPI's terms).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..spec.models import ApiStep, Route
from .cors import CorsHeaders, preflight_headers
from .integrations import preflight_mock
from .request_models import VALIDATOR, request_body
from .values import route_key

ANY_METHOD = "x-amazon-apigateway-any-method"  # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-any-method.html
INTEGRATION = "x-amazon-apigateway-integration"
API_KEY_SCHEME = "api_key"
PARAMETER = re.compile(r"\{([^}]+)\}")

Integrate = Callable[[Route], dict[str, Any]]


def method_key(method: str) -> str:
    return ANY_METHOD if method == "ANY" else method.lower()


def path_parameters(path: str) -> list[dict[str, Any]]:
    """A greedy `{proxy+}` is the parameter `proxy`, as in API Gateway's own OpenAPI examples: a
    request parameter's name may not hold `+`, and the import refuses it."""
    return [
        {"name": name.removesuffix("+"), "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PARAMETER.findall(path)
    ]


def _headers(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: {"schema": {"type": "string"}} for name in names}


def operation(
    route: Route, api: ApiStep, integration: dict[str, Any], cors: CorsHeaders, model: str | None
) -> dict[str, Any]:
    """One method: its parameters, the responses it declares (every header an integration
    response maps must be declared on the method response), its key requirement, and with a
    `model` the request body it validates."""
    if "responses" in integration:  # API Gateway maps each answer (direct and custom Lambda routes)
        declared = ("Content-Type", *cors.declared)
        source = "the model" if route.integration == "direct" else "the function"
        statuses = sorted({answer["statusCode"] for answer in integration["responses"].values()}, key=int)
        responses = {
            status: {"description": f"{status} from {source}", "headers": _headers(declared)} for status in statuses
        }
    else:
        responses = {"200": {"description": "what the function returns (status, headers and body)"}}
    op: dict[str, Any] = {"responses": responses, INTEGRATION: integration}
    parameters = path_parameters(route.path)
    if parameters:
        op["parameters"] = parameters
    if api.api_key is not None:
        op["security"] = [{API_KEY_SCHEME: []}]
    if model is not None:
        op["requestBody"] = request_body(route, model)
        op["x-amazon-apigateway-request-validator"] = VALIDATOR
    return op


def preflight(path: str, methods: list[str], api: ApiStep) -> dict[str, Any]:
    """OPTIONS on one path, answered by API Gateway (no key: browsers send none on preflights)."""
    assert api.cors is not None
    headers = preflight_headers(api.cors, methods)
    op: dict[str, Any] = {
        "responses": {"200": {"description": "CORS preflight", "headers": _headers(headers.declared)}},
        INTEGRATION: preflight_mock(headers),
    }
    parameters = path_parameters(path)
    if parameters:
        op["parameters"] = parameters
    return op


def build_paths(api: ApiStep, integrate: Integrate, cors: CorsHeaders, model_names: dict[str, str]) -> dict[str, Any]:
    """`model_names`: route_key -> the name of the model its body is validated against."""
    paths: dict[str, dict[str, Any]] = {}
    methods: dict[str, list[str]] = {}
    for route in api.routes:
        model = model_names.get(route_key(route))
        paths.setdefault(route.path, {})[method_key(route.method)] = operation(
            route, api, integrate(route), cors, model
        )
        methods.setdefault(route.path, []).append(route.method)
    if api.cors is not None:
        for path, item in paths.items():
            item["options"] = preflight(path, methods[path], api)
    return paths
