"""`invoke` on the aws target: InvokeEndpoint through boto3 against moto's real server, and a
route through plain HTTP against a real local server standing in for the execute-api URL.

Between boto3 and moto sits a recording relay (a real HTTP server), so the test sees the
request exactly as it went over the wire and holds it against what AWS documents.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.functional.invoke_support import invoke, record_deployed

from .aws_support import BUCKET

SPEC = f"""\
version: 1
name: movie-reviews
target: aws
region: us-east-1
aws: {{role_arn: "arn:aws:iam::123456789012:role/orchestrator-sagemaker", bucket: {BUCKET}}}
steps:
  deploy:
    type: endpoint
    model: s3://{BUCKET}/models/model.tar.gz
    instance: {{type: ml.t2.medium}}
  api:
    type: api
    routes:
      - {{method: POST, path: /predict, integration: direct, endpoint: movie-reviews-deploy}}
      - {{method: GET, path: "/reviews/{{id}}", integration: lambda, handler: api/handler.py:main,
         endpoint: movie-reviews-deploy}}
"""
ENDPOINT = "movie-reviews-deploy"
RUNTIME_URL = f"https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/{ENDPOINT}/invocations"

# InvokeEndpoint's request, as the API reference documents it
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html):
# POST /endpoints/EndpointName/invocations; EndpointName matches the pattern below;
# ContentType and Accept are headers of at most 1024 ASCII characters; Body at most 6291456 bytes.
INVOKE_PATH = re.compile(r"^/endpoints/(?P<name>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/invocations$")


def documented_invoke_endpoint(request: dict) -> dict:
    """The request's parts by their API names, after checking it against the documented rules."""
    match = INVOKE_PATH.match(request["path"])
    assert request["method"] == "POST" and match, request
    headers = {k.lower(): v for k, v in request["headers"].items()}
    for header in ("content-type", "accept"):
        if header in headers:
            assert len(headers[header]) <= 1024 and headers[header].isascii()
    assert len(request["body"]) <= 6291456
    return {
        "EndpointName": match.group("name"),
        "ContentType": headers.get("content-type"),
        "Accept": headers.get("accept"),
        "Body": request["body"],
    }


class Relay:
    """A real HTTP server that records each request, then forwards it to `upstream` or answers `script`."""

    def __init__(self, upstream: str | None = None, script: tuple[int, dict, bytes] | None = None):
        self.requests: list[dict] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._serve()

            def do_POST(self):
                self._serve()

            def _serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                relay.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, headers, answer = relay.script or relay.forward(self.command, self.path, self.headers, body)
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.upstream, self.script = upstream, script
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(self.upstream + path, data=body, method=method, headers=sent)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relay_to(aws_env, monkeypatch):
    made = []

    def start(**kwargs) -> Relay:
        made.append(Relay(**kwargs))
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", made[-1].url)
        return made[-1]

    yield start
    for relay in made:
        relay.close()


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "handler.py").write_text("def main(event, context):\n    return {}\n")
    outputs = {"endpoint_name": ENDPOINT, "url": RUNTIME_URL, "model": f"s3://{BUCKET}/models/model.tar.gz"}
    record_deployed(spec, "deploy", outputs, "aws")
    return spec


def test_an_endpoint_is_invoked_with_the_request_aws_documents(deployed, relay_to, aws_env, capsys):
    relay = relay_to(upstream=aws_env)
    canned = {"results": [{"Body": '{"label": "positive"}', "ContentType": "application/json",
                           "InvokedProductionVariant": "AllTraffic", "CustomAttributes": ""}]}  # fmt: skip
    request = urllib.request.Request(
        f"{aws_env}/moto-api/static/sagemaker/endpoint-results", data=json.dumps(canned).encode(), method="POST"
    )
    urllib.request.urlopen(request).read()

    code, out, err = invoke(
        capsys,
        deployed,
        "deploy",
        "--body",
        "great,1",
        "--content-type",
        "text/csv",
        "--accept",
        "application/json",
        "-v",
    )
    assert (code, out) == (0, '{"label": "positive"}\n')
    assert err.splitlines()[:2] == [f"> InvokeEndpoint {ENDPOINT} (us-east-1)", "HTTP 200 OK"]
    assert "x-amzn-invoked-production-variant: AllTraffic" in err.splitlines()
    [sent] = relay.requests
    assert documented_invoke_endpoint(sent) == {
        "EndpointName": ENDPOINT,
        "ContentType": "text/csv",
        "Accept": "application/json",
        "Body": b"great,1",
    }


def test_without_accept_none_is_sent_and_the_content_type_defaults_to_json(deployed, relay_to, aws_env, capsys):
    relay = relay_to(upstream=aws_env)
    code, out, _ = invoke(capsys, deployed, "deploy", "--body", '{"instances": [1]}', "--json")
    assert code == 0 and json.loads(out)["status"] == 200
    sent = documented_invoke_endpoint(relay.requests[0])
    assert (sent["ContentType"], sent["Accept"], sent["Body"]) == ("application/json", None, b'{"instances": [1]}')


def test_a_model_error_is_the_models_answer_and_exits_1(deployed, relay_to, capsys):
    # What SageMaker answers when the model container refuses a request (botocore parses it into ModelError).
    error = {"ErrorCode": "MODEL_ERROR", "Message": "Received client error (400) from primary with message \"bad\".",
             "OriginalStatusCode": 400, "OriginalMessage": "bad",
             "LogStreamArn": f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/{ENDPOINT}"}  # fmt: skip
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ModelError:http://internal.amazon.com/"}
    relay_to(script=(424, headers, json.dumps(error).encode()))
    code, out, err = invoke(capsys, deployed, "deploy", "--body", "{}")
    assert (code, err) == (1, "HTTP 424 Failed Dependency\n")
    assert json.loads(out) == error


def test_a_missing_endpoint_is_one_line_and_exits_1(deployed, relay_to, capsys):
    message = f"Endpoint {ENDPOINT} of account 123456789012 not found."
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ValidationError:http://internal.amazon.com/"}
    relay_to(script=(400, headers, json.dumps({"message": message}).encode()))
    code, out, err = invoke(capsys, deployed, "deploy", "--body", "{}")
    assert (code, out) == (1, "")
    assert err == (
        f"error: InvokeEndpoint: endpoint {ENDPOINT} does not exist in us-east-1: {message}\n"
        "  hint: it may have been deleted outside orchestrator; deploy it again with python -m orchestrator run\n"
    )


def test_no_credentials_is_one_line_and_exits_2(deployed, relay_to, monkeypatch, capsys):
    relay = relay_to(upstream="http://127.0.0.1:1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    code, out, err = invoke(capsys, deployed, "deploy", "--body", "{}")
    assert (code, out, relay.requests) == (2, "", [])
    assert err.startswith("error: No AWS credentials found for the aws target.\n  hint: Set AWS_PROFILE")


def test_a_route_is_called_at_the_recorded_stage_url(deployed, relay_to, capsys):
    api = relay_to(script=(201, {"Content-Type": "application/json", "x-amzn-RequestId": "r-1"}, b'{"ok": true}'))
    record_deployed(deployed, "api", {"url": f"{api.url}/prod", "api_id": "a1b2c3", "route_urls": {}}, "aws")
    code, out, err = invoke(capsys, deployed, "api", "--route", "GET /reviews/7", "--accept", "application/json", "-v")
    assert (code, out) == (0, '{"ok": true}\n')
    assert err.splitlines()[:2] == [f"> GET {api.url}/prod/reviews/7", "HTTP 201 Created"]
    assert "x-amzn-RequestId: r-1" in err.splitlines()
    [sent] = api.requests
    assert (sent["method"], sent["path"], sent["headers"]["Accept"], sent["body"]) == (
        "GET",
        "/prod/reviews/7",
        "application/json",
        b"",
    )
    assert "Content-Type" not in sent["headers"]  # no body, so no content type

    api.script = (404, {"Content-Type": "application/json"}, b'{"message": "no review 7"}')
    code, out, err = invoke(capsys, deployed, "api", "--route", "POST /predict", "--body", "{}")
    assert (code, out, err) == (1, '{"message": "no review 7"}\n', "HTTP 404 Not Found\n")
    assert api.requests[-1]["headers"]["Content-Type"] == "application/json"
