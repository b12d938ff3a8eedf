"""API keys in the document: the key source, a security scheme, and every real method requiring it."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.unit.apidoc_cases import document


def test_api_key_sets_the_header_source_a_scheme_and_per_operation_security():
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-api-key-source.html
    doc = document(api_key={"quota_limit": 100}, cors={"allow_origins": ["*"]})
    validate(doc)
    assert doc["x-amazon-apigateway-api-key-source"] == "HEADER"
    assert doc["components"]["securitySchemes"] == {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}
    for item in doc["paths"].values():
        for method, op in item.items():
            if method == "options":
                assert "security" not in op
            else:
                assert op["security"] == [{"api_key": []}]


def test_without_api_key_nothing_requires_one():
    doc = document()
    assert "x-amazon-apigateway-api-key-source" not in doc
    assert "components" not in doc
    assert all("security" not in op for item in doc["paths"].values() for op in item.values())
