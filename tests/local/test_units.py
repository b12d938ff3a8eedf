"""Pure pieces of the gateway and model server, without processes."""

from __future__ import annotations

import pytest

from orchestrator.spec.models import Cors
from orchestrator.targets.local.gateway.cors import CorsPolicy
from orchestrator.targets.local.gateway.handler import cors_request
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
        ({"statusCode": "200"}, "statusCode must be an integer HTTP status, got '200'"),
        ({"statusCode": 99}, "statusCode must be an integer HTTP status, got 99"),
        ({"body": {"a": 1}}, "body must be a string, got dict"),
        ({"statusCode": 200, "extra": 1}, "unexpected keys ['extra']"),
        ({"multiValueHeaders": {"X": "one"}}, "multiValueHeaders['X'] must be a list"),
        ({"body": "!!", "isBase64Encoded": True}, "isBase64Encoded is true but body is not base64"),
    ],
)
def test_malformed_proxy_results_are_named(result, message):
    with pytest.raises(MalformedResult) as caught:
        read_result(result)
    assert str(caught.value) == message


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
    policy = CorsPolicy(cors_request(Cors(allow_origins=["https://a.example/"])), {"ANY"})
    headers = dict(policy.preflight_headers("https://a.example"))
    assert headers["access-control-allow-methods"] == "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
    assert policy.response_headers("https://b.example") == []
    assert CorsPolicy(None, {"GET"}).response_headers("https://a.example") == []
