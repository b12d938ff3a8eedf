"""Api steps and values the apidoc tests build documents from."""

from __future__ import annotations

from typing import Any

from orchestrator.apidoc import ApiValues, compile_document, route_key
from orchestrator.apidoc.values import slug
from orchestrator.spec.models import ApiStep

LAMBDA_ROUTE = {"method": "POST", "path": "/predict", "integration": "lambda", "endpoint": "ep", "handler": "h.py:f"}
DIRECT_ROUTE = {"method": "POST", "path": "/invocations", "integration": "direct", "endpoint": "iris-deploy"}


def api_step(**fields: Any) -> ApiStep:
    data = {"type": "api", "routes": [LAMBDA_ROUTE, DIRECT_ROUTE], **fields}
    return ApiStep.model_validate(data)


def values_for(api: ApiStep, region: str = "eu-west-1", title: str = "demo-prod") -> ApiValues:
    return ApiValues(
        title=title,
        region=region,
        lambda_arns={
            route_key(r): f"arn:aws:lambda:{region}:123456789012:function:fn-{slug(route_key(r))}"
            for r in api.routes
            if r.integration == "lambda"
        },
        invoke_role_arn=f"arn:aws:iam::123456789012:role/direct-{region}",
    )


def document(**fields: Any) -> dict[str, Any]:
    api = api_step(**fields)
    return compile_document(api, values_for(api))


def integration(doc: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    return doc["paths"][path][method]["x-amazon-apigateway-integration"]


def strings(value: Any):
    """Every string inside a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
