"""The whole document: paths, key source and security scheme, gateway responses, binary types.

Output is deterministic (sorted keys, no timestamps): the same step and values give the same
bytes, so `document_hash` changes exactly when what API Gateway would serve changes, and the
aws Deployment keyed by it redeploys on every change, removals included.
Import format: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api.html
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..errors import UsageError
from ..spec.media_types import is_text
from ..spec.models import ApiStep, Route
from ..spec.refs import ANY_REF
from .cors import response_headers
from .gateway_responses import gateway_responses
from .integrations import direct_sagemaker, lambda_proxy
from .lambda_custom import lambda_custom
from .paths import API_KEY_SCHEME, build_paths
from .request_models import component_schemas, model_names, validators
from .values import ApiValues, route_key

OPENAPI_VERSION = "3.0.1"


class ApiDocError(UsageError):
    """The step cannot become a document: a value it needs is unknown or unresolved, or it asks
    for a combination API Gateway cannot serve."""


def _unresolved(where: str, value: str) -> None:
    if ANY_REF.search(value):
        raise ApiDocError(
            f"{where} is '{value}', a reference not resolved yet",
            "resolve the step's references (apidoc.resolve_refs) with the outputs of the steps it names",
        )


def _integrator(values: ApiValues, api: ApiStep, binary_api: bool):
    cors = response_headers(api.cors)

    def integrate(route: Route) -> dict[str, Any]:
        key = route_key(route)
        if route.integration == "lambda":
            arn = values.lambda_arns.get(key)
            if not arn:
                raise ApiDocError(f"no Lambda function ARN for route {key}", "pass it in ApiValues.lambda_arns")
            if route.proxy:
                return lambda_proxy(route, values.region, arn)
            return lambda_custom(route, values.region, arn, cors, binary_api)
        _unresolved(f"route {key}: endpoint", route.endpoint or "")
        if not values.invoke_role_arn:
            raise ApiDocError(f"direct route {key} needs the role API Gateway assumes", "set ApiValues.invoke_role_arn")
        if cors.echo_template and not is_text(route.accept):  # only a template echoes; none may touch bytes
            raise ApiDocError(
                f"direct route {key} answers {route.accept} (binary) but CORS must echo the caller's Origin",
                "allow_origins ['*'] without credentials, or an accept of a text type",
            )
        return direct_sagemaker(route, values.region, values.invoke_role_arn, cors, binary_api)

    return integrate


def binary_media_types(api: ApiStep) -> list[str]:
    """Types API Gateway must treat as bytes: a direct route's non-text request or answer."""
    types = {
        media
        for route in api.routes
        if route.integration == "direct"
        for media in (route.content_type, route.accept)
        if not is_text(media)
    }
    return sorted(types)


def compile_document(api: ApiStep, values: ApiValues) -> dict[str, Any]:
    """The OpenAPI 3 document API Gateway imports for this step, with every value resolved."""
    if api.cors is not None:
        for origin in api.cors.allow_origins:
            _unresolved("cors.allow_origins", origin)
    names = model_names(api)
    binary = binary_media_types(api)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": values.title, "version": "1.0"},
        "paths": build_paths(api, _integrator(values, api, bool(binary)), response_headers(api.cors), names),
        "x-amazon-apigateway-gateway-responses": gateway_responses(api.cors, [r.method for r in api.routes]),
    }
    if api.api_key is not None:
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-api-key-source.html
        document["x-amazon-apigateway-api-key-source"] = "HEADER"
        document["components"] = {
            "securitySchemes": {API_KEY_SCHEME: {"type": "apiKey", "name": "x-api-key", "in": "header"}}
        }
    if names:  # request validation (request_models.py); routes without request_schema add nothing here
        document.setdefault("components", {})["schemas"] = component_schemas(api, names)
        document["x-amazon-apigateway-request-validators"] = validators()
    if binary:
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-binary-media-types.html
        document["x-amazon-apigateway-binary-media-types"] = binary
    return document


def document_json(document: dict[str, Any]) -> str:
    """The document as people read and diff it: sorted keys, two-space indent, one final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def document_hash(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical form (sorted keys, no whitespace): what the Deployment is keyed by."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
