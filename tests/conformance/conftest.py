"""The conformance suite's local cloud: one daemon, one endpoint, the APIs the cases call.

Each API is built from a spec step as the local target builds it (api_request compiles the
step's OpenAPI document), so every case runs against the real local gateway on 127.0.0.1.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.spec.models import ApiStep
from orchestrator.targets.local.daemon.client import DaemonClient
from orchestrator.targets.local.daemon.protocol import EndpointRequest
from orchestrator.targets.local.gateway.handler import api_request

from ..local.conftest import stop_daemon
from ..local.project_files import build_project
from .validation_cases import INSTANCES

HANDLERS = '''
import json
import time


def event(event, context):
    """Answers with the event it got, so a case can compare it with what API Gateway sends."""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}


def string_status(event, context):
    return {"statusCode": "202", "body": "{}"}


def seven_mb(event, context):
    return {"statusCode": 200, "body": "x" * (7 * 1024 * 1024)}


def boom(event, context):
    raise RuntimeError("a detail that stays in the log")


def custom(event, context):
    """A non-proxy handler: the event is the JSON body, what it returns is the body."""
    if "data" not in event:
        raise ValueError("invalid input: no data")
    if event["data"] == "missing":
        raise LookupError("item 7 not found")
    if event["data"] == "other":
        raise RuntimeError("something else broke")
    return {"prediction": len(event["data"]), "event": event}


def custom_nap(event, context):
    time.sleep(event["s"])
    return {}


def nap(event, context):
    time.sleep(float((event["queryStringParameters"] or {}).get("s", "0")))
    return {"statusCode": 200, "body": "{}"}
'''
# A model that reports the bytes it got (as JSON) or sends them back (for any other Accept).
BYTES_INFERENCE = """
import hashlib
import json


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    if body.startswith(b"fail"):
        raise ValueError("these bytes are refused")
    if accept == "application/json":
        received = {"sha256": hashlib.sha256(body).hexdigest(), "length": len(body), "content_type": content_type}
        return json.dumps(received), "application/json"
    return body, accept
"""
ENDPOINT = "conformance-ep"
BYTES_ENDPOINT = "conformance-bytes"
ROWS_AS_DATA = '{"data": $input.json(\'$.rows\'), "q": "$input.params(\'q\')"}'
FAST = {"rate_limit": 100000, "burst_limit": 100000}  # the cases' own traffic is never throttled


def lam(method: str, path: str, function: str, **extra) -> dict:
    return {
        "method": method,
        "path": path,
        "integration": "lambda",
        "handler": f"conformance_api/handlers.py:{function}",
        "endpoint": ENDPOINT,
        **extra,
    }


def direct(path: str, **extra) -> dict:
    return {"method": "POST", "path": path, "integration": "direct", "endpoint": ENDPOINT, **extra}


APIS = {
    "main": {
        "type": "api",
        "throttling": FAST,
        "cors": {"allow_origins": ["https://app.example"]},
        "routes": [
            lam("ANY", "/items/{id}", "event"),
            lam("GET", "/files/{proxy+}", "event"),
            lam("GET", "/string-status", "string_status"),
            lam("GET", "/seven-mb", "seven_mb"),
            lam("POST", "/boom", "boom"),
            lam("GET", "/nap", "nap", timeout_s=1),
            lam("POST", "/custom", "custom", proxy=False, errors={".*not found.*": 404, ".*invalid.*": 400}),
            lam("POST", "/custom-default", "custom", proxy=False),
            lam("POST", "/custom-template", "custom", proxy=False, request_template=ROWS_AS_DATA),
            lam("POST", "/custom-nap", "custom_nap", proxy=False, timeout_s=1),
            direct("/invocations"),
            direct("/csv", content_type="text/csv", accept="text/csv"),
            lam("POST", "/validated", "event", request_schema=INSTANCES),
            lam("POST", "/validated-boom", "boom", request_schema=INSTANCES),
            direct("/validated-direct", request_schema=INSTANCES),
        ],
    },
    "binary": {  # its own API: binary media types change how API Gateway treats every route's bodies
        "type": "api",
        "throttling": FAST,
        "cors": {"allow_origins": ["*"]},
        "routes": [
            direct("/classify", endpoint=BYTES_ENDPOINT, content_type="image/png", accept="application/json"),
            direct("/echo", endpoint=BYTES_ENDPOINT, content_type="image/png", accept="image/png"),
        ],
    },
    "keyed": {
        "type": "api",
        "throttling": FAST,
        "api_key": {},
        "cors": {"allow_origins": ["*"]},
        "routes": [lam("GET", "/items/{id}", "event")],
    },
    "throttled": {  # a bucket of 2 that refills once in 100 s
        "type": "api",
        "throttling": {"rate_limit": 0.01, "burst_limit": 2},
        "routes": [lam("GET", "/items/{id}", "event")],
    },
}


@pytest.fixture(scope="session")
def conformance(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    files = build_project(root / "project")
    project = files["root"]
    handlers = project / "conformance_api" / "handlers.py"
    handlers.parent.mkdir()
    handlers.write_text(textwrap.dedent(HANDLERS))
    client = DaemonClient(root / "home")
    try:
        client.put(ENDPOINT, EndpointRequest(files["model_v1"].as_uri(), None, {}))
        inference = project / "conformance_bytes" / "inference.py"
        inference.parent.mkdir()
        inference.write_text(textwrap.dedent(BYTES_INFERENCE))
        client.put(BYTES_ENDPOINT, EndpointRequest(files["model_v1"].as_uri(), str(inference), {}))
        urls, keys = {}, {}
        for name, step in APIS.items():
            request = api_request(ApiStep.model_validate(step), Path(project), "us-east-1", project / ".bundles")
            answer = client.put(f"conformance-{name}", request)
            urls[name] = f"http://127.0.0.1:{answer.port}/prod"
            keys[name] = request.api_key.value if request.api_key else None
        yield {"urls": urls, "keys": keys, "log": client.home.log_file}
    finally:
        stop_daemon(client)
