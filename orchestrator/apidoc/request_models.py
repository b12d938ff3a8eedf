"""Request validation: a route's `request_schema` as an API Gateway model and a body-only validator.

The import turns an OpenAPI 3 operation's `requestBody` schema, a `$ref` into `components.schemas`,
into the method's request model for that content type, and `x-amazon-apigateway-request-validator`
names the validator that checks bodies against it (400 BAD_REQUEST_BODY before any integration):
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-validation-set-up.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-request-validators.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-request-validator.html
Model names are alphanumeric: https://docs.aws.amazon.com/apigateway/latest/api/API_Model.html
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from ..spec.models import ApiStep, Route
from .values import route_key

VALIDATOR = "body-only"
VALIDATORS = {VALIDATOR: {"validateRequestBody": True, "validateRequestParameters": False}}
SCHEMAS_REF = "#/components/schemas/"


def _camel(route: Route) -> str:
    """`POST /items/{id}` -> `PostItemsId`."""
    words = re.findall(r"[A-Za-z0-9]+", f"{route.method} {route.path}")
    return "".join(word[:1].upper() + word[1:].lower() for word in words)


def model_names(api: ApiStep) -> dict[str, str]:
    """route_key -> model name, for the routes with a request_schema. Two routes that read alike
    (`/a-b`, `/ab`) keep distinct names by a digest of their key."""
    names: dict[str, str] = {}
    for route in api.routes:
        if route.request_schema is None:
            continue
        name = _camel(route) + "Body"
        if name in names.values():
            name += hashlib.sha256(route_key(route).encode()).hexdigest()[:8]
        names[route_key(route)] = name
    return names


def request_body(route: Route, model: str) -> dict[str, Any]:
    """The operation's requestBody: required, the model for the route's body type."""
    return {"required": True, "content": {route.body_type: {"schema": {"$ref": SCHEMAS_REF + model}}}}


def component_schemas(api: ApiStep, names: dict[str, str]) -> dict[str, Any]:
    """`components.schemas`: each model's schema as the route states it (a copy: the document is data)."""
    return {
        names[route_key(route)]: copy.deepcopy(route.request_schema)
        for route in api.routes
        if route_key(route) in names
    }


def validators() -> dict[str, Any]:
    """`x-amazon-apigateway-request-validators`: the one validator, for bodies only."""
    return copy.deepcopy(VALIDATORS)
