"""API Gateway emulation: the proxy event, the context, integrations and the gateway's edges."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest

from orchestrator.targets.local.daemon.protocol import EndpointRequest

from .conftest import ENDPOINT, api_spec, api_step, lambda_route


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=30) as client:
        yield client


def test_lambda_route_calls_the_endpoint_with_boto3(cloud, http):
    answer = http.post(f"{cloud['api']}/predict", json={"instances": [[0], [3]]})
    assert answer.status_code == 200
    assert answer.json() == {"predictions": [0, 1]}


def test_proxy_event_carries_what_api_gateway_sends(cloud, http):
    answer = http.put(
        f"{cloud['api']}/echo/42?tag=a&tag=b&single=1",
        content=b'{"x": 1}',
        headers={"Content-Type": "application/json", "X-Custom": "yes"},
    )
    assert answer.status_code == 201
    event = answer.json()["event"]
    assert event["resource"] == "/echo/{id}"
    assert event["path"] == "/echo/42"
    assert event["httpMethod"] == "PUT"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "b", "single": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "single": ["1"]}
    assert event["headers"]["X-Custom"] == "yes"
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert event["body"] == '{"x": 1}'
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert (context["stage"], context["httpMethod"], context["path"], context["resourcePath"]) == (
        "prod",
        "PUT",
        "/prod/echo/42",
        "/echo/{id}",
    )
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == answer.headers["x-amzn-requestid"]


def test_lambda_context_and_environment(cloud, http, files):
    body = http.get(f"{cloud['api']}/echo/1").json()
    context, env = body["context"], body["env"]
    assert context["function_name"] == "api-main-any-echo-id"
    assert context["memory_limit_in_mb"] == 256
    assert context["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:api-main-any-echo-id"
    assert context["aws_request_id"] == body["event"]["requestContext"]["requestId"]
    assert 0 < context["remaining_ms"] <= 29000
    assert env.pop("AWS_ACCESS_KEY_ID").startswith("ASIA")  # the function's own credentials (test_lambdas.py)
    assert env == {
        "ENDPOINT_NAME": ENDPOINT,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": f"http://127.0.0.1:{cloud['endpoint_port']}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "GREETING": "hello",
    }
    bundle = Path(body["cwd"])  # Lambda's working directory is its task root: the deployed bundle
    assert bundle.parent == files["root"] / ".bundles" and (bundle / "handlers.py").is_file()


def function_messages(client, function: str, awaited: str) -> list[str]:
    """The messages of a lambda function's log, once one of them starts with `awaited`."""
    log = client.home.root / "logs" / "lambdas" / f"{function}.log"
    deadline = time.monotonic() + 10
    while True:
        messages = [json.loads(line)["message"] for line in log.read_text().splitlines()] if log.exists() else []
        if any(m.startswith(awaited) for m in messages) or time.monotonic() > deadline:
            return messages


def test_handler_print_goes_to_the_functions_log_with_its_request_id(cloud, http):
    answer = http.get(f"{cloud['api']}/echo/printed")
    request_id = answer.headers["x-amzn-requestid"]
    log = cloud["client"].home.root / "logs" / "lambdas" / "api-main-any-echo-id.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (log.exists() and request_id in log.read_text()):
        time.sleep(0.05)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    printed = [e for e in events if e["message"] == "echo handler saw /echo/printed"]
    assert printed and printed[-1]["request_id"] == request_id
    assert "echo handler saw" not in cloud["log"].read_text()  # the daemon's own log stays its own


def test_lambda_headers_and_multi_value_headers_are_returned(cloud, http):
    answer = http.get(f"{cloud['api']}/echo/7")
    assert answer.headers["x-single"] == "one"
    assert answer.headers.get_list("x-multi") == ["a", "b"]


def test_greedy_path_parameter(cloud, http):
    event = http.get(f"{cloud['api']}/files/a/b/c.txt").json()["event"]
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_binary_bodies_are_base64_both_ways_for_the_documents_binary_media_types(cloud, files, http):
    """API Gateway converts only bodies of a binary media type: a base64 answer is decoded when
    its Content-Type (or the Accept) is one, a request body is base64 in the event when its
    Content-Type is one. The document declares a direct route's non-text types.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
    """
    client = cloud["client"]
    routes = [
        lambda_route("GET", "/binary", "binary"),
        lambda_route("POST", "/echo/{id}", "echo"),
        {
            "method": "POST",
            "path": "/octets",
            "integration": "direct",
            "endpoint": ENDPOINT,
            "content_type": "application/octet-stream",
        },
    ]
    api = client.put("api-binary", api_spec(api_step(routes), files["root"]))
    base = f"http://127.0.0.1:{api.port}/prod"
    try:
        answer = http.get(f"{base}/binary")
        assert answer.content == bytes([0, 255, 1]) + b"bin"
        octets = {"Content-Type": "application/octet-stream"}
        event = http.post(f"{base}/echo/bin", content=bytes([0, 255, 254]), headers=octets).json()["event"]
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == bytes([0, 255, 254])
    finally:
        client.delete("apis", "api-binary")


def test_without_binary_media_types_a_base64_answer_stays_text(cloud, http):
    """The shared API has no binary media types: API Gateway passes the base64 text as it is."""
    answer = http.get(f"{cloud['api']}/binary")
    assert answer.content == base64.b64encode(bytes([0, 255, 1]) + b"bin")
    event = http.post(f"{cloud['api']}/echo/text", content=b"plain text").json()["event"]
    assert (event["isBase64Encoded"], event["body"]) == (False, "plain text")


def test_handler_exception_is_502_and_the_traceback_stays_in_the_log(cloud, http):
    answer = http.post(f"{cloud['api']}/boom", json={})
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}
    assert "secret detail" not in answer.text
    function_log = function_messages(cloud["client"], "api-main-post-boom", "[ERROR] RuntimeError")
    assert "Traceback (most recent call last):" in function_log
    assert "[ERROR] RuntimeError: secret detail that stays in the log" in function_log
    assert "RuntimeError: secret detail that stays in the log" in cloud["log"].read_text()


@pytest.mark.parametrize("path", ["/malformed", "/not-a-dict"])
def test_malformed_lambda_result_is_502(cloud, http, path):
    answer = http.get(f"{cloud['api']}{path}")
    assert (answer.status_code, answer.json()) == (502, {"message": "Internal server error"})


def test_slow_lambda_is_504_and_its_worker_is_replaced(cloud, http):
    first = http.get(f"{cloud['api']}/slow", params={"s": "0"}).json()["pid"]
    answer = http.get(f"{cloud['api']}/slow", params={"s": "5"})
    assert (answer.status_code, answer.json()) == (504, {"message": "Endpoint request timed out"})
    after = http.get(f"{cloud['api']}/slow", params={"s": "0"})
    assert after.status_code == 200
    assert after.json()["pid"] != first


def test_unknown_route_and_wrong_method_are_403(cloud, http):
    for method, url in [
        ("GET", f"{cloud['api']}/nothing"),
        ("GET", f"{cloud['api']}/predict"),
        ("POST", f"http://127.0.0.1:{cloud['api_port']}/dev/predict"),
        ("GET", f"http://127.0.0.1:{cloud['api_port']}/"),
    ]:
        answer = http.request(method, url)
        assert answer.status_code == 403
        assert answer.json() == {"message": "Missing Authentication Token"}
        assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_body_over_10_mb_is_413(cloud, http):
    answer = http.post(f"{cloud['api']}/invocations", content=b"x" * (10 * 1024 * 1024 + 1))
    assert (answer.status_code, answer.json()) == (413, {"message": "Request Too Long"})


def test_direct_route_passes_body_and_headers_to_the_endpoint(cloud, http):
    answer = http.post(f"{cloud['api']}/invocations", json={"instances": [[3]]})
    assert (answer.status_code, answer.json()) == (200, {"predictions": [1]})
    # API Gateway takes a request without Content-Type as application/json, which the csv
    # route has no template for (passthrough never: 415), so the client names the type.
    csv = http.post(f"{cloud['api']}/csv", content="0\n3\n", headers={"Content-Type": "text/csv"})
    assert (csv.status_code, csv.headers["content-type"], csv.text) == (200, "text/csv", "0\n1\n")


def test_slow_endpoint_behind_a_direct_route_is_504(cloud, http):
    answer = http.post(f"{cloud['api']}/slow-direct", json={"instances": [[1]], "sleep": 3})
    assert (answer.status_code, answer.json()) == (504, {"message": "Endpoint request timed out"})


def test_unknown_endpoint_is_400_behind_a_direct_route_and_502_behind_a_lambda(cloud, http):
    """SageMaker answers an unknown endpoint with 400 ValidationError: a direct route maps it by
    the document's 4xx selectionPattern to its generic body; the Lambda's boto3 raises, so 502.
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html#API_runtime_InvokeEndpoint_Errors
    """
    direct = http.post(f"{cloud['api']}/missing-direct", json={"instances": [[1]]})
    assert (direct.status_code, direct.json()) == (
        400,
        {"message": "The model could not process the request", "requestId": direct.headers["x-amzn-requestid"]},
    )
    answer = http.post(f"{cloud['api']}/predict-missing", json={"instances": [[1]]})
    assert (answer.status_code, answer.json()) == (502, {"message": "Internal server error"})
    log = cloud["log"].read_text()
    assert "Endpoint no-such-endpoint of account 123456789012 not found." in log


def test_a_handler_that_cannot_be_loaded_is_502_with_the_reason_in_the_log(cloud, http):
    answer = http.get(f"{cloud['api']}/no-function")
    assert (answer.status_code, answer.json()) == (502, {"message": "Internal server error"})
    assert "AttributeError: Handler 'missing_function' missing on module 'handlers'" in cloud["log"].read_text()


def test_a_model_error_behind_a_direct_route_is_400_with_the_documents_generic_body(cloud, http):
    """SageMaker's ModelError (424) matches the document's 4xx selectionPattern: the caller gets
    400 and the generic body with the request id, never OriginalMessage or LogStreamArn."""
    answer = http.post(f"{cloud['api']}/invocations", json={"rows": 1})
    assert (answer.status_code, answer.json()) == (
        400,
        {"message": "The model could not process the request", "requestId": answer.headers["x-amzn-requestid"]},
    )
    assert "OriginalMessage" not in answer.text and "LogStream" not in answer.text


def test_a_lambda_whose_endpoint_was_deleted_fails_fast_with_502(cloud, files, http):
    client = cloud["client"]
    client.put("ep-short-lived", EndpointRequest(files["model_v1"].as_uri(), None, {}))
    api = client.put(
        "api-short-lived",
        api_spec(
            {"type": "api", "routes": [lambda_route("POST", "/predict", "predict", endpoint="ep-short-lived")]},
            files["root"],
        ),
    )
    url = f"http://127.0.0.1:{api.port}/prod/predict"
    assert http.post(url, json={"instances": [[3]]}).json() == {"predictions": [1]}
    client.delete("endpoints", "ep-short-lived")
    answer = http.post(url, json={"instances": [[3]]})
    assert (answer.status_code, answer.json()) == (502, {"message": "Internal server error"})
    assert "Endpoint ep-short-lived of account 123456789012 not found." in cloud["log"].read_text()
    client.delete("apis", "api-short-lived")


def test_a_literal_beats_a_parameter_beats_a_greedy_path_and_any_takes_every_method(cloud, files, http):
    client = cloud["client"]
    routes = [
        lambda_route("GET", "/items/{proxy+}", "echo"),
        lambda_route("GET", "/items/{id}", "echo"),
        lambda_route("GET", "/items/special", "echo"),
        lambda_route("ANY", "/", "echo"),
    ]
    api = client.put("api-routing", api_spec(api_step(routes), files["root"]))
    base = f"http://127.0.0.1:{api.port}/prod"
    try:
        for method, path, resource, params in [
            ("GET", "/items/special", "/items/special", None),
            ("GET", "/items/7", "/items/{id}", {"id": "7"}),
            ("GET", "/items/7/parts/2", "/items/{proxy+}", {"proxy": "7/parts/2"}),
            ("DELETE", "/", "/", None),
        ]:
            event = http.request(method, base + path).json()["event"]
            assert (event["resource"], event["pathParameters"]) == (resource, params), path
        for method, path in [("POST", "/items/7"), ("GET", "/other")]:
            answer = http.request(method, base + path)
            assert (answer.status_code, answer.json()) == (403, {"message": "Missing Authentication Token"})
    finally:
        client.delete("apis", "api-routing")
