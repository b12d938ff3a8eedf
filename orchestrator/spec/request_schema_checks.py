"""Checks of a route's `request_schema`: the model API Gateway validates request bodies against.

A model is a JSON Schema of draft 4 (the `schema` of API Gateway's Model, "for application/json
models, this should be JSON schema draft 4 model"), and a body is validated as JSON:
https://docs.aws.amazon.com/apigateway/latest/api/API_Model.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html
Keywords API Gateway's OpenAPI import does not support in models are refused here, so the
local gateway and AWS validate by the same schema:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic
from .loader import Document
from .models import ApiStep, Pipeline, Route
from .text import shown

DRAFT_4 = "http://json-schema.org/draft-04/schema#"
# Not supported in API Gateway models (the known-issues page above); `$ref` would name a model by
# its API Gateway URL, which no spec can know before the deploy. minItems and maxItems, once listed
# there as left out of validation, are validated for OpenAPI 3 imports (a ruleset that codifies that
# page dropped them: andylockran/spectral-aws-apigateway-ruleset#8), so they stay allowed.
UNSUPPORTED = {
    "discriminator": "API Gateway supports no discriminator in any schema object",
    "example": "API Gateway's import does not support the example keyword",
    "exclusiveMinimum": "API Gateway's import does not support exclusiveMinimum",
    "readOnly": "API Gateway's import does not support readOnly",
    "$ref": "a model refers to other models by their API Gateway URL; write the sub-schema inline",
}
# OpenAPI 3.0.x: "requestBody is only supported in HTTP methods where the HTTP 1.1 specification
# RFC7231 has explicitly defined semantics for request bodies"; GET and DELETE have none.
# https://spec.openapis.org/oas/v3.0.1#operation-object
NO_BODY_METHODS = ("GET", "DELETE")
# Draft 4 keywords whose value holds subschemas: a mapping of them, one or a list of them.
TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
SCHEMA_ONE_OR_LIST = ("items", "additionalItems", "additionalProperties", "not", "allOf", "anyOf", "oneOf")


def is_json(media_type: str) -> bool:
    """Whether bodies of this type are JSON (what a model validates)."""
    media = media_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def body_type(route: Route) -> str:
    """The content type a route's request_schema describes: Lambda takes JSON events."""
    return route.content_type if route.integration == "direct" else "application/json"


def subschemas(schema: Any, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """Every schema object inside `schema`, with its path (keywords' values, never property names)."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for keyword in SCHEMA_MAPS:
        children = schema.get(keyword)
        if isinstance(children, dict):
            for name, child in children.items():
                yield from subschemas(child, path + (keyword, name))
    for keyword in SCHEMA_ONE_OR_LIST:
        child = schema.get(keyword)
        if isinstance(child, list):
            for index, item in enumerate(child):
                yield from subschemas(item, path + (keyword, index))
        else:
            yield from subschemas(child, path + (keyword,))


def _problems(route: Route, schema: dict, at: tuple, doc: Document) -> Iterator[Diagnostic]:
    import jsonschema  # deferred: only a spec with a request_schema needs it

    where = at + ("request_schema",)
    if route.method in NO_BODY_METHODS:
        yield doc.diagnostic(
            where,
            f"{route.method} requests have no body to validate: OpenAPI 3.0 defines none for {route.method}",
            "validate query parameters in the handler, or use POST, PUT or PATCH",
            key=True,
        )
    media = body_type(route)
    if not is_json(media):
        yield doc.diagnostic(
            where,
            f"request_schema validates a JSON body, and this route's content_type is {shown(media)}",
            "remove request_schema, or send JSON (content_type: application/json)",
            key=True,
        )
    declared = schema.get("$schema")
    if declared is not None and str(declared).rstrip("#") != DRAFT_4.rstrip("#"):
        yield doc.diagnostic(
            where + ("$schema",),
            f"$schema is {shown(declared)}: API Gateway models are JSON Schema draft 4",
            f"remove $schema, or set it to {DRAFT_4}",
        )
    checker = jsonschema.Draft4Validator(jsonschema.Draft4Validator.META_SCHEMA)
    for error in sorted(checker.iter_errors(schema), key=lambda e: tuple(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        message = shown(error.message, 200)
        if path and path[-1] == "type" and error.validator == "anyOf":
            message = f"{shown(error.instance)} is not a type: use {', '.join(TYPES)} (or a list of them)"
        yield doc.diagnostic(
            where + path,
            f"request_schema is not a valid draft-4 JSON Schema: {message}",
            "e.g. {type: object, required: [instances], properties: {instances: {type: array}}}",
        )
    for path, sub in subschemas(schema):
        for keyword, why in UNSUPPORTED.items():
            if keyword in sub:
                yield doc.diagnostic(
                    where + path + (keyword,), f"'{keyword}' in request_schema: {why}", "remove it", key=True
                )


def check_request_schemas(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    for name, step in p.steps.items():
        if not isinstance(step, ApiStep):
            continue
        for i, route in enumerate(step.routes):
            if route.request_schema is not None:
                yield from _problems(route, route.request_schema, ("steps", name, "routes", i), doc)
