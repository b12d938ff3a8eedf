"""How the local gateway reads request validation from the document: which operations validate
bodies, against which compiled model, and what passes. The answers on the wire are conformance
cases (tests/conformance/validation_cases.py)."""

from __future__ import annotations

import copy

import jsonschema

from orchestrator.apidoc import compile_document
from orchestrator.targets.local.gateway.request_validation import body_models, problem
from orchestrator.targets.local.gateway.stage import read_routes
from tests.unit.apidoc_cases import DIRECT_ROUTE, LAMBDA_ROUTE, api_step, values_for

ROWS = {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array"}}}


def compiled(routes) -> dict:
    api = api_step(routes=routes)
    return compile_document(api, values_for(api))


def operation_models(document, path="/predict", method="POST"):
    resource, _ = read_routes(document).resource_for(path)
    return resource.methods[method].models


def test_each_model_is_compiled_when_the_document_is_read_not_per_request():
    router = read_routes(compiled([{**LAMBDA_ROUTE, "request_schema": ROWS}, DIRECT_ROUTE]))
    models = router.resource_for("/predict")[0].methods["POST"].models
    assert isinstance(models["application/json"], jsonschema.Draft4Validator)  # what each request reuses
    assert router.resource_for("/invocations")[0].methods["POST"].models == {}


def test_a_model_without_a_body_validator_validates_nothing():
    """API Gateway validates only on methods whose request validator says validateRequestBody."""
    document = compiled([{**LAMBDA_ROUTE, "request_schema": ROWS}])
    operation = document["paths"]["/predict"]["post"]
    assert body_models(document, operation)
    without = copy.deepcopy(operation)
    del without["x-amazon-apigateway-request-validator"]
    assert body_models(document, without) == {}
    params_only = copy.deepcopy(document)
    params_only["x-amazon-apigateway-request-validators"]["body-only"]["validateRequestBody"] = False
    assert body_models(params_only, operation) == {}


def test_the_apis_default_validator_applies_to_an_operation_naming_none():
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-request-validator.html
    document = compiled([{**LAMBDA_ROUTE, "request_schema": ROWS}])
    operation = document["paths"]["/predict"]["post"]
    document["x-amazon-apigateway-request-validator"] = operation.pop("x-amazon-apigateway-request-validator")
    assert set(body_models(document, operation)) == {"application/json"}


def test_what_passes_and_what_does_not():
    models = operation_models(compiled([{**LAMBDA_ROUTE, "request_schema": ROWS}]))
    assert problem(models, "application/json", b'{"instances": []}') is None
    assert problem(models, "Application/JSON; charset=utf-8", b"{}") == "body: 'instances' is a required property"
    assert problem(models, None, b'{"instances": 1}') == "instances: 1 is not of type 'array'"
    assert problem(models, "application/json", b"") == "body: 'instances' is a required property"  # {} as AWS
    assert problem(models, "application/json", b'{"instances": NaN}').startswith("the body is not JSON")
    assert problem(models, "application/json", b"\xff").startswith("the body is not JSON")
    assert problem(models, "text/plain", b"not json") is None  # no model for the type: not validated
    assert problem({}, "application/json", b"not json") is None
