"""A `proxy: false` lambda route in the document: API Gateway's Lambda custom integration, and
its templates rendered by the VTL engine the local gateway uses.

https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/handle-errors-in-lambda-integration.html
"""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from orchestrator.targets.local.gateway import vtl
from tests.unit.apidoc_cases import DIRECT_ROUTE, LAMBDA_ROUTE, document, integration

CUSTOM = {**LAMBDA_ROUTE, "proxy": False}
INVOKE_URI = (
    "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:eu-west-1:123456789012:function:fn-post-predict/invocations"
)
PARAMS = {"path": {}, "querystring": {"q": "x"}, "header": {"Origin": "https://a.example"}}


def render(template: str, body: str, context: dict | None = None) -> str:
    context = context or {"requestId": "req-1", "responseOverride": {"header": {}, "status": None}}
    return vtl.render(template, body, PARAMS, context, {})


def test_a_custom_route_is_an_aws_integration_posting_to_the_functions_invoke_uri():
    got = integration(document(routes=[{**CUSTOM, "timeout_s": 3}]), "/predict")
    assert {k: got[k] for k in ("type", "httpMethod", "uri", "passthroughBehavior", "timeoutInMillis")} == {
        "type": "aws",
        "httpMethod": "POST",
        "uri": INVOKE_URI,
        "passthroughBehavior": "when_no_templates",
        "timeoutInMillis": 3000,
    }
    assert "credentials" not in got  # Lambda's resource policy lets API Gateway in, as for proxy routes


def test_the_default_event_is_the_json_body_itself():
    template = integration(document(routes=[CUSTOM]), "/predict")["requestTemplates"]
    assert template == {"application/json": "$input.json('$')"}
    assert json.loads(render(template["application/json"], '{"data": [1, 2]}')) == {"data": [1, 2]}
    assert json.loads(render(template["application/json"], "")) == {}  # no body: an empty event


def test_a_request_template_replaces_the_default_and_renders_with_the_request():
    route = {**CUSTOM, "request_template": '{"data": $input.json(\'$.rows\'), "q": "$input.params(\'q\')"}'}
    template = integration(document(routes=[route]), "/predict")["requestTemplates"]["application/json"]
    assert json.loads(render(template, '{"rows": [[3]]}')) == {"data": [[3]], "q": "x"}


def test_without_errors_every_function_error_is_a_generic_500():
    responses = integration(document(routes=[CUSTOM]), "/predict")["responses"]
    assert set(responses) == {"default", r"[\s\S]+"}
    assert responses["default"] == {
        "statusCode": "200",
        "responseParameters": {"method.response.header.Content-Type": "'application/json'"},
    }  # no template: the return value passes through as the body
    error = responses[r"[\s\S]+"]
    assert error["statusCode"] == "500"
    failure = json.dumps({"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ["  File x"]})
    assert json.loads(render(error["responseTemplates"]["application/json"], failure)) == {
        "message": "Internal server error",
        "requestId": "req-1",
    }


def test_mapped_errors_answer_their_status_with_the_functions_message_and_no_stack_trace():
    route = {**CUSTOM, "errors": {".*not found.*": 404, ".*invalid.*": 400}}
    responses = integration(document(routes=[route]), "/predict")["responses"]
    assert {k: v["statusCode"] for k, v in responses.items()} == {
        "default": "200",
        ".*not found.*": "404",
        ".*invalid.*": "400",
    }  # and no catch-all: an unmatched error takes the default, as on API Gateway
    failure = json.dumps({"errorMessage": 'item "7" not found', "errorType": "KeyError", "stackTrace": ["  File x"]})
    body = json.loads(render(responses[".*not found.*"]["responseTemplates"]["application/json"], failure))
    assert body == {"message": 'item "7" not found', "requestId": "req-1"}


def test_cors_comes_from_the_integration_responses_and_the_origin_echo():
    doc = document(routes=[{**CUSTOM, "errors": {".*missing.*": 404}}], cors={"allow_origins": ["https://a.example"]})
    responses = integration(doc, "/predict")["responses"]
    for response in responses.values():
        template = response["responseTemplates"]["application/json"]
        context = {"requestId": "r", "responseOverride": {"header": {}, "status": None}}
        render(template, '{"errorMessage": "x is missing"}', context)
        assert context["responseOverride"]["header"]["Access-Control-Allow-Origin"] == "https://a.example"
    star = integration(document(routes=[CUSTOM], cors={"allow_origins": ["*"]}), "/predict")["responses"]
    assert star["default"]["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'*'"


def test_each_status_and_header_the_integration_maps_is_declared_and_the_document_is_openapi_3():
    doc = document(
        routes=[{**CUSTOM, "errors": {".*not found.*": 404}}, DIRECT_ROUTE],
        cors={"allow_origins": ["https://a.example"], "expose_headers": ["X-Request-Id"]},
    )
    op = doc["paths"]["/predict"]["post"]
    assert set(op["responses"]) == {"200", "404"}
    for response in op["x-amazon-apigateway-integration"]["responses"].values():
        declared = op["responses"][response["statusCode"]]["headers"]
        for parameter in response["responseParameters"]:
            assert parameter.removeprefix("method.response.header.") in declared
    validate(doc)


def test_proxy_routes_are_unchanged_by_the_new_keys():
    got = integration(document(routes=[{**LAMBDA_ROUTE, "proxy": True}]), "/predict")
    assert got["type"] == "aws_proxy" and "responses" not in got


def test_beside_a_binary_route_every_answer_is_text_whatever_the_clients_accept():
    """A JSON answer for a client whose first Accept is a binary type would be base64-decoded
    (500) without CONVERT_TO_TEXT: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html"""
    image = {**DIRECT_ROUTE, "path": "/image", "content_type": "image/png", "accept": "image/png"}
    responses = integration(document(routes=[CUSTOM, image]), "/predict")["responses"]
    assert all(response["contentHandling"] == "CONVERT_TO_TEXT" for response in responses.values())
    assert not any(
        "contentHandling" in r for r in integration(document(routes=[CUSTOM]), "/predict")["responses"].values()
    )
