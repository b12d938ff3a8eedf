"""Request body validation as API Gateway does it, from the document: an operation whose request
validator validates bodies checks the body against the model its `requestBody` names for the
request's Content-Type, before any integration runs; a body that fails is BAD_REQUEST_BODY.
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html

- No Content-Type is taken as application/json, as API Gateway does for mapping templates:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
- A content type with no model is not validated: whether such a body passes is the integration's
  passthrough behaviour, a separate matter (the validation page above says so).
- An empty body is validated as `{}` and a body that is not JSON fails, as LocalStack's request
  validation does after its tests against AWS (tests/aws/services/apigateway/test_apigateway_common.py,
  test_api_gateway_request_validator: a bodiless request to a method with a model of required
  fields is 400).

Each model is compiled once, when the gateway reads its document, never per request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema

from ....apidoc.request_models import SCHEMAS_REF
from ....spec.media_types import essence

DEFAULT_TYPE = "application/json"
Models = Mapping[str, jsonschema.Draft4Validator]  # media type (lower case) -> its compiled model


def _validator(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The operation's request validator, or the API's default one; {} when none applies."""
    name = operation.get("x-amazon-apigateway-request-validator") or document.get(
        "x-amazon-apigateway-request-validator"
    )
    return (document.get("x-amazon-apigateway-request-validators") or {}).get(name or "", {})


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMAS_REF):
        return ((document.get("components") or {}).get("schemas") or {})[ref[len(SCHEMAS_REF) :]]
    return schema


def body_models(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, jsonschema.Draft4Validator]:
    """The compiled models bodies of this operation are validated against (none without a body validator)."""
    if not _validator(document, operation).get("validateRequestBody"):
        return {}
    content = (operation.get("requestBody") or {}).get("content") or {}
    return {
        media.lower(): jsonschema.Draft4Validator(_schema(document, entry.get("schema") or {}))
        for media, entry in content.items()
    }


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def problem(models: Models, content_type: str | None, body: bytes) -> str | None:
    """Why the body fails its model, or None when it passes (or no model applies)."""
    if not models:
        return None
    media = essence(content_type, DEFAULT_TYPE)
    model = models.get(media)
    if model is None:
        return None
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant) if body else {}
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return f"the body is not JSON: {exc}"
    error = next(iter(model.iter_errors(value)), None)
    return None if error is None else f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
