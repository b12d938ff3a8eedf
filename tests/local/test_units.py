"""Pure pieces of the gateway and model server, without processes."""

from __future__ import annotations

import pytest

from orchestrator.apidoc import compile_document
from orchestrator.spec.models import ApiStep
from orchestrator.targets.local.gateway import integrations
from orchestrator.targets.local.gateway.handler import local_values
from orchestrator.targets.local.gateway.proxy_event import MalformedResult, read_result
from orchestrator.targets.local.serving.content import (
    RequestRejected,
    as_response,
    decode_input,
    encode_output,
)


@pytest.mark.parametrize(
    "result, message",
    [
        ("text", "expected a dict, got str"),
        ({"statusCode": "OK"}, "statusCode must be an integer HTTP status, got 'OK'"),
        ({"statusCode": True}, "statusCode must be an integer HTTP status, got True"),
        ({"statusCode": 99}, "statusCode must be an integer HTTP status, got 99"),
        ({"body": {"a": 1}}, "body must be a string, got dict"),
        ({"statusCode": 200, "extra": 1}, "unexpected keys ['extra']"),
        ({"multiValueHeaders": {"X": "one"}}, "multiValueHeaders['X'] must be a list"),
        ({"body": "!!", "isBase64Encoded": True}, "isBase64Encoded is true but body is not base64"),
    ],
)
def test_malformed_proxy_results_are_named(result, message):
    with pytest.raises(MalformedResult) as caught:  # a binary media type, so base64 bodies are decoded
        read_result(result, "application/octet-stream", ("application/octet-stream",))
    assert str(caught.value) == message


def test_a_numeric_string_status_is_accepted_as_api_gateway_does():
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    (the output format's statusCode; API Gateway takes "200" as 200)."""
    assert read_result({"statusCode": "201", "body": "{}"})[0] == 201


def test_proxy_result_defaults_and_multi_value_headers_win():
    status, headers, body = read_result({"headers": {"X-A": "single"}, "multiValueHeaders": {"x-a": ["1", "2"]}})
    assert (status, body) == (200, b"")
    assert headers == [("x-a", "1"), ("x-a", "2"), ("content-type", "application/json")]


def test_default_codecs():
    assert decode_input(b'{"instances": [{"features": [1, 2]}]}', "application/json") == [[1, 2]]
    assert decode_input(b'{"features": [1]}\n{"features": [2]}\n', "application/jsonlines") == [[1], [2]]
    assert decode_input(b"1,2\n3,x\n", "text/csv; charset=utf-8") == [[1.0, 2.0], [3.0, "x"]]
    assert encode_output([1, 2], "text/csv") == (b"1\n2\n", "text/csv")
    assert as_response(("body", "text/plain"), "application/json") == (b"body", "text/plain")
    assert as_response({"a": 1}, "application/json") == (b'{"a": 1}', "application/json")
    with pytest.raises(RequestRejected) as caught:
        encode_output([1], "application/x-protobuf")
    assert (caught.value.status, str(caught.value)) == (
        406,
        "accept application/x-protobuf is not supported by the default output_fn",
    )


def test_cors_methods_default_to_the_routes_and_any_expands():
    """The local gateway answers the document's preflight mock: ANY expands to every method."""
    step = ApiStep.model_validate(
        {
            "type": "api",
            "cors": {"allow_origins": ["https://a.example/"]},
            "routes": [{"method": "ANY", "path": "/x", "integration": "lambda", "handler": "h.py:f", "endpoint": "e"}],
        }
    )
    mock = compile_document(step, local_values(step, "us-east-1"))["paths"]["/x"]["options"][
        "x-amazon-apigateway-integration"
    ]

    def preflight(origin: str) -> dict[str, str]:
        view = integrations.Rendering(
            {"path": {}, "querystring": {}, "header": {"Origin": origin}},
            {"responseOverride": {"header": {}, "status": None}},
        )
        status = integrations.mock_status(mock, lambda: view)
        response = integrations.select_response(mock["responses"], status)
        headers = integrations.method_response(response, b"", {}, {"origin": origin}.get, lambda: view)[1]
        return dict(headers)

    allowed = preflight("https://a.example")
    assert allowed["Access-Control-Allow-Methods"] == "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
    assert allowed["Access-Control-Allow-Origin"] == "https://a.example"
    assert "Access-Control-Allow-Origin" not in preflight("https://b.example")
