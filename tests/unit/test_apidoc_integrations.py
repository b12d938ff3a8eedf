"""What each route becomes: Lambda proxy and direct SageMaker integrations, as API Gateway takes them."""

from __future__ import annotations

import json

import pytest

from orchestrator.apidoc import ApiDocError, ApiValues, compile_document
from orchestrator.spec.models import ApiStep
from tests.unit.apidoc_cases import DIRECT_ROUTE, LAMBDA_ROUTE, api_step, document, integration, strings


def test_lambda_route_is_an_aws_proxy_post_to_the_function():
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration.html
    doc = document(routes=[{**LAMBDA_ROUTE, "method": "GET", "timeout_s": 2.5}])
    assert integration(doc, "/predict", "get") == {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:eu-west-1:123456789012:function:fn-get-predict/invocations",
        "passthroughBehavior": "when_no_match",
        "timeoutInMillis": 2500,
    }


def test_direct_route_calls_invoke_endpoint_with_the_role_and_the_routes_headers():
    doc = document(routes=[{**DIRECT_ROUTE, "content_type": "text/csv", "accept": "application/jsonlines"}])
    got = integration(doc, "/invocations")
    assert got["type"] == "aws"
    assert got["httpMethod"] == "POST"
    assert got["uri"] == "arn:aws:apigateway:eu-west-1:runtime.sagemaker:path//endpoints/iris-deploy/invocations"
    assert got["credentials"] == "arn:aws:iam::123456789012:role/direct-eu-west-1"
    assert got["requestParameters"] == {
        "integration.request.header.Content-Type": "'text/csv'",
        "integration.request.header.Accept": "'application/jsonlines'",
    }
    assert got["timeoutInMillis"] == 29000


def test_direct_route_accepts_only_its_content_type_so_a_form_post_is_415():
    # passthrough `never` + a template for one type: any other Content-Type is refused (415).
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
    got = integration(document(routes=[DIRECT_ROUTE]), "/invocations")
    assert got["passthroughBehavior"] == "never"
    assert got["requestTemplates"] == {"application/json": "$input.body"}
    assert "application/x-www-form-urlencoded" not in got["requestTemplates"]


def test_direct_route_maps_sagemaker_errors_to_a_generic_body_with_the_request_id():
    responses = integration(document(routes=[DIRECT_ROUTE]), "/invocations")["responses"]
    assert set(responses) == {"default", r"4\d{2}", r"5\d{2}"}
    assert responses["default"]["statusCode"] == "200"
    assert responses["default"]["responseParameters"] == {
        "method.response.header.Content-Type": "integration.response.header.Content-Type"
    }
    assert "responseTemplates" not in responses["default"]  # the model's answer passes through untouched
    for pattern, status in ((r"4\d{2}", "400"), (r"5\d{2}", "500")):
        error = responses[pattern]
        assert error["statusCode"] == status
        assert error["responseParameters"] == {"method.response.header.Content-Type": "'application/json'"}
        rendered = error["responseTemplates"]["application/json"].replace("$context.requestId", "abc-123")
        body = json.loads(rendered)  # what the caller gets is JSON once $context is filled in
        assert body["requestId"] == "abc-123"
        assert set(body) == {"message", "requestId"}


def test_no_template_can_show_sagemakers_original_message_or_log_stream():
    doc = document(
        routes=[DIRECT_ROUTE, {**DIRECT_ROUTE, "path": "/csv", "content_type": "text/csv"}],
        cors={"allow_origins": ["https://a.example"], "allow_credentials": True},
    )
    templates = [
        template
        for item in doc["paths"].values()
        for op in item.values()
        for response in op["x-amazon-apigateway-integration"].get("responses", {}).values()
        for template in response.get("responseTemplates", {}).values()
    ]
    assert templates  # there are templates to check
    for template in templates:
        assert "OriginalMessage" not in template and "LogStreamArn" not in template
        assert "$input.path" not in template and "$input.json" not in template  # nothing picks the error body apart
    assert not any("OriginalMessage" in s or "LogStreamArn" in s for s in strings(doc))


def test_every_header_an_integration_maps_is_declared_on_the_method_response():
    # API Gateway refuses an integration response parameter without its method response header.
    doc = document(cors={"allow_origins": ["https://a.example"], "expose_headers": ["X-Request-Id"]})
    for item in doc["paths"].values():
        for op in item.values():
            for response in op["x-amazon-apigateway-integration"].get("responses", {}).values():
                declared = op["responses"][response["statusCode"]].get("headers", {})
                for parameter in response.get("responseParameters", {}):
                    assert parameter.removeprefix("method.response.header.") in declared, parameter


def test_timeouts_become_milliseconds_within_api_gateways_range():
    doc = document(routes=[{**LAMBDA_ROUTE, "timeout_s": 0.01}, {**DIRECT_ROUTE, "timeout_s": 10}])
    assert integration(doc, "/predict")["timeoutInMillis"] == 50  # API Gateway's floor
    assert integration(doc, "/invocations")["timeoutInMillis"] == 10000


def test_path_parameters_are_declared_and_a_greedy_one_without_its_plus():
    """API Gateway's own example declares `/{proxy+}`'s parameter as `proxy`: a request
    parameter's name may not hold `+` (set-up-lambda-proxy-integrations, OpenAPI definition)."""
    doc = document(routes=[{**LAMBDA_ROUTE, "path": "/items/{id}/{proxy+}", "method": "ANY"}])
    item = doc["paths"]["/items/{id}/{proxy+}"]
    assert set(item) == {"x-amazon-apigateway-any-method"}
    names = [p["name"] for p in item["x-amazon-apigateway-any-method"]["parameters"]]
    assert names == ["id", "proxy"]
    assert all(p["in"] == "path" and p["required"] for p in item["x-amazon-apigateway-any-method"]["parameters"])


def test_methods_on_one_path_share_its_path_item():
    doc = document(routes=[LAMBDA_ROUTE, {**LAMBDA_ROUTE, "method": "GET"}, DIRECT_ROUTE])
    assert set(doc["paths"]) == {"/predict", "/invocations"}
    assert set(doc["paths"]["/predict"]) == {"post", "get"}


PAYLOAD_ENCODINGS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html"
CONVERSIONS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html"


def test_binary_media_types_list_a_direct_routes_non_text_types_only():
    doc = document(routes=[LAMBDA_ROUTE, {**DIRECT_ROUTE, "content_type": "image/jpeg", "accept": "text/csv"}])
    assert doc["x-amazon-apigateway-binary-media-types"] == ["image/jpeg"]
    assert "x-amazon-apigateway-binary-media-types" not in document(routes=[LAMBDA_ROUTE, DIRECT_ROUTE])


def test_a_binary_request_passes_through_with_no_template_and_no_content_handling():
    """PAYLOAD_ENCODINGS: "To pass a binary payload through without modification, leave the
    property undefined ... ensure that the Content-Type matches one of the binaryMediaTypes
    entries, and that passthrough behaviors are enabled"; a template would see text."""
    doc = document(routes=[{**DIRECT_ROUTE, "content_type": "application/x-image", "accept": "application/json"}])
    got = integration(doc, "/invocations")
    assert "application/x-image" in doc["x-amazon-apigateway-binary-media-types"]
    assert "requestTemplates" not in got
    assert "contentHandling" not in got
    assert got["passthroughBehavior"] == "when_no_match"
    assert got["requestParameters"]["integration.request.header.Content-Type"] == "'application/x-image'"
    # a JSON answer in an API with binary types: text for every client, whatever its Accept (CONVERSIONS)
    assert all(response["contentHandling"] == "CONVERT_TO_TEXT" for response in got["responses"].values())


def test_a_binary_answer_passes_through_and_its_errors_stay_text_for_a_binary_accept():
    """CONVERSIONS, response table: binary data with no contentHandling is binary for a binary
    Accept and base64 for a text one; text data is base64-decoded for a binary Accept unless
    CONVERT_TO_TEXT, so the templated error bodies carry it."""
    route = {**DIRECT_ROUTE, "content_type": "image/png", "accept": "image/png"}
    responses = integration(document(routes=[route]), "/invocations")["responses"]
    assert responses["default"] == {
        "statusCode": "200",
        "responseParameters": {"method.response.header.Content-Type": "integration.response.header.Content-Type"},
    }
    for pattern in (r"4\d{2}", r"5\d{2}"):
        assert responses[pattern]["contentHandling"] == "CONVERT_TO_TEXT"
        assert set(responses[pattern]["responseTemplates"]) == {"application/json"}


def test_a_text_route_beside_a_binary_one_keeps_its_template_and_refusal_and_answers_text():
    """CONVERSIONS, response table: text data for a binary Accept is base64-decoded unless
    CONVERT_TO_TEXT; once the API has binary types, a client may send one to any route."""
    routes = [DIRECT_ROUTE, {**DIRECT_ROUTE, "path": "/image", "content_type": "image/jpeg", "accept": "image/png"}]
    got = integration(document(routes=routes), "/invocations")
    assert got["requestTemplates"] == {"application/json": "$input.body"}
    assert got["passthroughBehavior"] == "never"
    assert "contentHandling" not in got
    assert all(response["contentHandling"] == "CONVERT_TO_TEXT" for response in got["responses"].values())


def test_an_api_without_binary_types_sets_no_content_handling():
    got = integration(document(routes=[DIRECT_ROUTE]), "/invocations")
    assert not any("contentHandling" in response for response in got["responses"].values())


def test_a_binary_answer_with_an_echoed_cors_origin_is_refused_with_a_hint():
    """Only a response template can echo the Origin, and a template cannot carry bytes (CONVERSIONS)."""
    route = {**DIRECT_ROUTE, "content_type": "image/png", "accept": "image/png"}
    with pytest.raises(ApiDocError, match=r"direct route POST /invocations answers image/png \(binary\)") as caught:
        document(routes=[route], cors={"allow_origins": ["https://a.example"]})
    assert "allow_origins ['*']" in caught.value.hint
    doc = document(routes=[route], cors={"allow_origins": ["*"]})  # a static origin needs no template
    ok = integration(doc, "/invocations")["responses"]["default"]
    assert ok["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'*'"
    assert "responseTemplates" not in ok


def test_an_unresolved_endpoint_reference_is_refused_with_a_hint():
    api = ApiStep.model_validate(
        {"type": "api", "routes": [{**DIRECT_ROUTE, "endpoint": "${steps.deploy.outputs.endpoint_name}"}]}
    )
    with pytest.raises(ApiDocError, match=r"route POST /invocations: endpoint is '\$\{steps.deploy") as caught:
        compile_document(api, ApiValues(title="t", region="us-east-1", invoke_role_arn="arn:aws:iam::1:role/r"))
    assert "resolve_refs" in caught.value.hint


def test_missing_values_are_named():
    api = api_step()
    with pytest.raises(ApiDocError, match="no Lambda function ARN for route POST /predict"):
        compile_document(api, ApiValues(title="t", region="us-east-1", invoke_role_arn="arn:aws:iam::1:role/r"))
    with pytest.raises(ApiDocError, match="direct route POST /invocations needs the role"):
        compile_document(
            api, ApiValues(title="t", region="us-east-1", lambda_arns={"POST /predict": "arn:aws:lambda:x"})
        )
