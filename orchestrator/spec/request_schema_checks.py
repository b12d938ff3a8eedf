"""Checks of a route's `request_schema`: the model API Gateway validates request bodies against.

A model is a JSON Schema of draft 4 (the `schema` of API Gateway's Model, "for application/json
models, this should be JSON schema draft 4 model"), and a body is validated as JSON:
https://docs.aws.amazon.com/apigateway/latest/api/API_Model.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html
Keywords API Gateway's OpenAPI import does not support in models are refused here, so the
local gateway and AWS validate by the same schema:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
and so are draft-4 keywords OpenAPI 3.0's Schema Object lacks (`$schema`, `definitions`,
`patternProperties`, a list of types, ...): the model travels inside the OpenAPI document, which
would not be valid with them, and an importer may drop what it does not know.
https://spec.openapis.org/oas/v3.0.1#schema-object
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic
from .loader import Document
from .media_types import essence
from .models import ApiStep, Pipeline, Route
from .text import shown

# Not supported in API Gateway models (the known-issues page above); `$ref` would name another
# model, and a spec has none to point at (each route's schema is written inline).
UNSUPPORTED = {
    "discriminator": "API Gateway supports no discriminator in any schema object",
    "example": "API Gateway's import does not support the example keyword",
    "exclusiveMinimum": "API Gateway's import does not support exclusiveMinimum",
    "readOnly": "API Gateway's import does not support readOnly",
    "$ref": "a spec has no other models to refer to; write the sub-schema inline",
}
# Allowed, but AWS documents them as left out of validation after an import (known issues): a warning.
LENGTH_UNCHECKED_ON_AWS = ("minItems", "maxItems")
# What OpenAPI 3.0's Schema Object takes from draft 4 (and the few it adds); anything else is refused.
OPENAPI_KEYWORDS = frozenset(
    (
        "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
        "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "enum", "type",
        "allOf", "oneOf", "anyOf", "not", "items", "properties", "additionalProperties", "description", "format",
        "default", "nullable", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated", "discriminator",
    )
)  # fmt: skip
NOT_OPENAPI_HINTS = {
    "$schema": "remove it: the document's models are draft 4 already",
    "definitions": "write each sub-schema inline where it is used",
    "patternProperties": "use properties, or additionalProperties for any name",
    "additionalItems": "use items with one schema for every element",
}
# OpenAPI 3.0.x: "requestBody is only supported in HTTP methods where the HTTP 1.1 specification
# RFC7231 has explicitly defined semantics for request bodies"; GET and DELETE have none.
# https://spec.openapis.org/oas/v3.0.1#operation-object
NO_BODY_METHODS = ("GET", "DELETE")
# The names OpenAPI 3.0 allows in `type` (no "null", and one name, never a list), for the hint.
TYPES = ("array", "boolean", "integer", "number", "object", "string")
# Draft 4 keywords whose value holds subschemas: a mapping of them, one or a list of them.
SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
SCHEMA_ONE_OR_LIST = ("items", "additionalItems", "additionalProperties", "not", "allOf", "anyOf", "oneOf")


def is_json(media_type: str) -> bool:
    """Whether bodies of this type are JSON (what a model validates)."""
    media = essence(media_type)
    return media == "application/json" or media.endswith("+json")


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
    if route.method == "ANY":
        yield doc.diagnostic(
            where,
            "an ANY route takes GET too, and a GET has no body: validated as {}, every GET would be refused 400",
            "give the schema to a POST, PUT or PATCH route of the same path",
            key=True,
        )
    media = route.body_type
    if not is_json(media):
        yield doc.diagnostic(
            where,
            f"request_schema validates a JSON body, and this route's content_type is {shown(media)}",
            "remove request_schema, or send JSON (content_type: application/json)",
            key=True,
        )
    checker = jsonschema.Draft4Validator(jsonschema.Draft4Validator.META_SCHEMA)
    for error in sorted(checker.iter_errors(schema), key=lambda e: tuple(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        message = shown(error.message, 200)
        if path and path[-1] == "type" and error.validator == "anyOf":
            message = f"{shown(error.instance)} is not a type: use one of {', '.join(TYPES)}"
        yield doc.diagnostic(
            where + path,
            f"request_schema is not a valid draft-4 JSON Schema: {message}",
            "e.g. {type: object, required: [instances], properties: {instances: {type: array}}}",
        )
    for path, sub in subschemas(schema):
        yield from _keyword_problems(sub, where + path, doc)


def _keyword_problems(sub: dict, at: tuple, doc: Document) -> Iterator[Diagnostic]:
    """One schema object's keywords: those API Gateway refuses, those OpenAPI 3.0 lacks, its type."""
    for keyword in sub:
        if keyword in UNSUPPORTED:
            yield doc.diagnostic(
                at + (keyword,), f"'{keyword}' in request_schema: {UNSUPPORTED[keyword]}", "remove it", key=True
            )
        elif keyword not in OPENAPI_KEYWORDS:
            yield doc.diagnostic(
                at + (keyword,),
                f"'{shown(keyword)}' in request_schema: OpenAPI 3.0's Schema Object has no such keyword, "
                "so the API document carrying the model would not be valid",
                NOT_OPENAPI_HINTS.get(keyword, "remove it"),
                key=True,
            )
    kind = sub.get("type")
    if isinstance(kind, list) or kind == "null":
        yield doc.diagnostic(
            at + ("type",),
            f"type {shown(kind)} in request_schema: OpenAPI 3.0 takes one type name, and has no null type",
            f"use one of {', '.join(TYPES)}",
        )
    if isinstance(sub.get("items"), list):
        yield doc.diagnostic(
            at + ("items",), "items in request_schema is a list: OpenAPI 3.0's items is one schema", "use one schema"
        )
    if sub.get("format") == "decimal" or (kind == "number" and sub.get("format") in ("int32", "int64")):
        yield doc.diagnostic(
            at + ("format",),
            f"format {shown(sub['format'])} on a {shown(kind)} in request_schema: API Gateway models do not support it",
            "remove format, or use type: integer for whole numbers",
        )
    for keyword in LENGTH_UNCHECKED_ON_AWS:
        if keyword in sub:
            unchecked = doc.diagnostic(
                at + (keyword,),
                f"'{keyword}' in request_schema: API Gateway's known issues say minItems and maxItems are not "
                "included in simple request validation of an imported API; the local gateway checks them, so on "
                "AWS a body outside them may reach the integration",
                "check the array's length in the handler or model too",
                key=True,
            )
            yield dataclasses.replace(unchecked, severity="warning")


def check_request_schemas(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    for name, step in p.steps.items():
        if not isinstance(step, ApiStep):
            continue
        for i, route in enumerate(step.routes):
            if route.request_schema is not None:
                yield from _problems(route, route.request_schema, ("steps", name, "routes", i), doc)
