"""A tutorial's non-proxy Lambda behind the real local gateway: the handler reads event["data"],
calls the endpoint with the runtime's boto3 and returns {"prediction": ...}; its errors are
mapped by the route's patterns. Beside it a health route that names no endpoint.

https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html
"""

from __future__ import annotations

import textwrap

import httpx
import pytest

from .conftest import ENDPOINT, api_spec, api_step

TUTORIAL_HANDLER = """
import json
import os

import boto3

runtime = boto3.client("runtime.sagemaker")


def lambda_handler(event, context):
    if "data" not in event:
        raise ValueError("invalid request: send {'data': [[...], ...]}")
    if event["data"] == "crash":
        raise RuntimeError("the handler broke")
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="application/json",
        Body=json.dumps({"instances": event["data"]}),
    )
    return {"prediction": json.loads(answer["Body"].read())["predictions"]}


def bare_error(event, context):
    assert event.get("ok")  # a bare assert: an AssertionError with no message


def health(event, context):
    names = ("ENDPOINT_NAME", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")
    return {"ok": True, "set": sorted(name for name in names if name in os.environ)}
"""


def custom_route(method: str, path: str, function: str, **extra) -> dict:
    return {
        "method": method,
        "path": path,
        "integration": "lambda",
        "handler": f"tutorial/app.py:{function}",
        "proxy": False,
        **extra,
    }


@pytest.fixture(scope="module")
def tutorial(cloud, tmp_path_factory):
    project = tmp_path_factory.mktemp("tutorial")
    (project / "tutorial").mkdir()
    (project / "tutorial" / "app.py").write_text(textwrap.dedent(TUTORIAL_HANDLER))
    routes = [
        custom_route("POST", "/predict", "lambda_handler", endpoint=ENDPOINT, errors={".*invalid.*": 400}),
        custom_route("GET", "/health", "health"),
        custom_route("POST", "/bare", "bare_error"),  # no errors: every error is 500
    ]
    client = cloud["client"]
    api = client.put("api-tutorial", api_spec(api_step(routes, cors={"allow_origins": ["*"]}), project))
    with httpx.Client(base_url=f"http://127.0.0.1:{api.port}/prod", timeout=30) as http:
        yield http
    client.delete("apis", "api-tutorial")


def test_the_handler_gets_the_body_as_its_event_and_its_return_value_is_the_answer(tutorial):
    answer = tutorial.post("/predict", json={"data": [[3], [0]]})
    assert (answer.status_code, answer.json()) == (200, {"prediction": [1, 0]})
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["access-control-allow-origin"] == "*"  # from the integration response


def test_a_mapped_error_is_its_status_with_the_message_only(tutorial):
    answer = tutorial.post("/predict", json={"rows": []})
    assert answer.status_code == 400
    body = answer.json()
    assert body["message"] == "invalid request: send {'data': [[...], ...]}"
    assert set(body) == {"message", "requestId"}
    assert body["requestId"] == answer.headers["x-amzn-requestid"]
    assert answer.headers["access-control-allow-origin"] == "*"


def test_an_unmatched_error_is_200_with_lambdas_error_document(tutorial):
    """As API Gateway answers an error no selectionPattern matches: the document Lambda's
    Python runtime makes (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html)."""
    answer = tutorial.post("/predict", json={"data": "crash"})
    assert answer.status_code == 200
    error = answer.json()
    assert set(error) == {"errorMessage", "errorType", "stackTrace"}
    assert (error["errorMessage"], error["errorType"]) == ("the handler broke", "RuntimeError")
    [frame] = error["stackTrace"]  # the handler's own frame; the runtime's call into it is left out
    assert frame.startswith('  File "') and 'app.py", line ' in frame and "in lambda_handler" in frame
    assert 'raise RuntimeError("the handler broke")' in frame


def test_a_route_without_an_endpoint_gets_no_endpoint_variables(tutorial):
    answer = tutorial.get("/health")
    assert (answer.status_code, answer.json()) == (200, {"ok": True, "set": []})


def test_an_error_without_a_message_is_still_an_error_without_a_pattern_map(tutorial):
    """An empty errorMessage reads as a success to API Gateway's patterns; the wrapper deployed
    with custom routes names it by its type, so the catch-all 500 still applies."""
    answer = tutorial.post("/bare", json={})
    assert answer.status_code == 500
    assert set(answer.json()) == {"message", "requestId"}  # no stack trace to the public
