"""A route's request_schema in the document: a model in components.schemas, the operation's required
requestBody naming it for the route's body type, and the body-only validator API Gateway applies.

Import of OpenAPI 3 request bodies as models, and validators:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-validation-set-up.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-request-validators.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-request-validator.html
Model names: https://docs.aws.amazon.com/apigateway/latest/api/API_Model.html ("an alphanumeric string")
"""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from orchestrator.apidoc import compile_document, document_json
from tests.unit.apidoc_cases import DIRECT_ROUTE, LAMBDA_ROUTE, api_step, document, values_for

ROWS = {
    "type": "object",
    "required": ["instances"],
    "properties": {"instances": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}},
}
ALPHANUMERIC = re.compile(r"^[A-Za-z0-9]+$")


def test_a_lambda_routes_schema_is_its_json_model_checked_by_a_body_only_validator():
    doc = document(routes=[{**LAMBDA_ROUTE, "request_schema": ROWS}, DIRECT_ROUTE])
    operation = doc["paths"]["/predict"]["post"]
    assert operation["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PostPredictBody"}}},
    }
    assert operation["x-amazon-apigateway-request-validator"] == "body-only"
    assert doc["components"]["schemas"] == {"PostPredictBody": ROWS}
    assert doc["x-amazon-apigateway-request-validators"] == {
        "body-only": {"validateRequestBody": True, "validateRequestParameters": False}
    }
    validate(doc)  # still a valid OpenAPI 3.0 document


def test_a_direct_routes_model_is_for_its_content_type():
    doc = document(routes=[{**DIRECT_ROUTE, "content_type": "application/x-rows+json", "request_schema": ROWS}])
    content = doc["paths"]["/invocations"]["post"]["requestBody"]["content"]
    assert list(content) == ["application/x-rows+json"]


def test_routes_without_a_schema_are_as_they_were_and_no_validator_applies_to_them():
    plain = document(routes=[LAMBDA_ROUTE, DIRECT_ROUTE])
    mixed = document(routes=[LAMBDA_ROUTE, {**DIRECT_ROUTE, "request_schema": ROWS}])
    assert mixed["paths"]["/predict"] == plain["paths"]["/predict"]
    assert "requestBody" not in mixed["paths"]["/predict"]["post"]
    assert "x-amazon-apigateway-request-validator" not in mixed  # no API-wide default validator
    for key in ("components", "x-amazon-apigateway-request-validators"):
        assert key not in plain


def test_an_api_without_schemas_carries_nothing_of_request_validation():
    """Nothing new appears in a document whose routes set no request_schema."""
    api = api_step(routes=[LAMBDA_ROUTE, DIRECT_ROUTE], api_key={})
    text = document_json(compile_document(api, values_for(api)))
    assert "requestBody" not in text and "schemas" not in text and "request-validator" not in text


def test_models_sit_beside_the_api_key_scheme():
    doc = document(routes=[{**LAMBDA_ROUTE, "request_schema": ROWS}], api_key={})
    assert set(doc["components"]) == {"securitySchemes", "schemas"}
    validate(doc)


def test_model_names_are_alphanumeric_and_distinct_for_routes_that_read_alike():
    routes = [
        {**LAMBDA_ROUTE, "path": "/items/{id}/score", "request_schema": ROWS},
        {**LAMBDA_ROUTE, "path": "/items-id/score", "request_schema": {"type": "object"}},
        {**LAMBDA_ROUTE, "method": "ANY", "path": "/files/{proxy+}", "request_schema": ROWS},
    ]
    doc = document(routes=routes)
    names = list(doc["components"]["schemas"])
    assert len(set(names)) == 3
    assert all(ALPHANUMERIC.match(name) for name in names), names
    assert names[0] == "PostItemsIdScoreBody"
    refs = {
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for item in doc["paths"].values()
        for operation in item.values()
    }
    assert refs == set(names)


def test_the_document_holds_a_copy_of_the_schema():
    api = api_step(routes=[{**LAMBDA_ROUTE, "request_schema": ROWS}])
    doc = compile_document(api, values_for(api))
    doc["components"]["schemas"]["PostPredictBody"]["required"].append("other")
    assert api.routes[0].request_schema["required"] == ["instances"]


def test_every_keyword_validate_allows_keeps_the_document_valid_openapi():
    """The keywords request_schema_checks lets through, all in one model: the document stays valid
    OpenAPI 3.0 (the draft-4 keywords it refuses are exactly those that would break it)."""
    from orchestrator.spec.request_schema_checks import OPENAPI_KEYWORDS, UNSUPPORTED

    allowed = OPENAPI_KEYWORDS - set(UNSUPPORTED)
    values = {
        "title": "t", "multipleOf": 2, "maximum": 9, "exclusiveMaximum": True, "minimum": 0, "maxLength": 3,
        "minLength": 1, "pattern": "^a", "maxItems": 3, "minItems": 1, "uniqueItems": True, "maxProperties": 4,
        "minProperties": 1, "required": ["a"], "enum": [{"a": 1}], "type": "object", "allOf": [{}],
        "oneOf": [{}], "anyOf": [{}], "not": {"type": "string"}, "items": {"type": "number"},
        "properties": {"a": {"type": "integer"}}, "additionalProperties": False, "description": "d",
        "format": "date-time", "default": {"a": 1}, "nullable": False, "writeOnly": False,
        "xml": {"name": "x"}, "externalDocs": {"url": "https://example.com"}, "deprecated": False,
    }  # fmt: skip
    assert set(values) == allowed
    validate(document(routes=[{**LAMBDA_ROUTE, "request_schema": values}]))
