"""Property tests of the local gateway from the API document `export` writes: schemathesis generates
requests from that document, sends them to the daemon serving the same api step on 127.0.0.1, and
every answer must conform to the document; no 5xx but those it documents (the model's own 500 on a
direct route) and API Gateway's 502 (a failed Lambda) and 504 (integration failure or timeout).

Bounded and reproducible: few examples per operation, derandomized (Hypothesis's fixed seed), no
example database, no deadline (a shared machine must not make a slow answer a failure).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (  # where 4.0 has them (later ones re-export them)
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from orchestrator.cli import main

from .conftest import ENDPOINT, api_spec, api_step, lambda_route

GATEWAY_5XX = {502, 504}  # a Lambda that fails or answers malformed; an integration that fails or times out
EXAMPLES = 15
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# The document `export` writes also declares Access-Control-* and Content-Type headers, so those are held
# to its schemas too; server errors are judged by `documented_5xx`, not by schemathesis' blanket rule.
CHECKS = [response_schema_conformance, content_type_conformance, response_headers_conformance]

# What the fixture model predicts from: rows of one feature (bounded: float32 overflows past ~3e38).
# Both routes that reach it validate their bodies by it, so generated bodies are ones it answers.
ROWS_MODEL = {
    "type": "object",
    "required": ["instances"],
    "properties": {
        "instances": {
            "type": "array",
            "minItems": 1,
            "maxItems": 5,
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1,
                "items": {"type": "number", "minimum": -1e6, "maximum": 1e6},
            },
        }
    },
}
VALIDATED = ("POST /predict", "POST /invocations")
ROUTES = [
    lambda_route("POST", "/predict", "predict", timeout_s=10, request_schema=ROWS_MODEL),
    lambda_route("GET", "/items/{id}", "echo"),  # a path parameter for schemathesis to fill
    lambda_route("ANY", "/echo/{id}", "echo"),  # only its preflight: ANY is API Gateway's, not an OpenAPI method
    {
        "method": "POST",
        "path": "/invocations",
        "integration": "direct",
        "endpoint": ENDPOINT,
        "request_schema": ROWS_MODEL,
    },
    # the same two without a model: arbitrary bodies still reach a Lambda and a model through them
    lambda_route("POST", "/predict-open", "predict", timeout_s=10),
    {"method": "POST", "path": "/invocations-open", "integration": "direct", "endpoint": ENDPOINT},
]
OPEN = ("POST /predict-open", "POST /invocations-open")
CORS = {"allow_origins": ["https://site.example"]}
SPEC = {"version": 1, "name": "props", "region": "us-east-1", "steps": {"api": api_step(ROUTES, CORS)}}


@pytest.fixture(scope="module")
def exported(files, tmp_path_factory) -> dict:
    """The document `python -m orchestrator export` writes for a pipeline with this api step."""
    spec = Path(files["root"]) / "props-pipeline.yaml"  # beside the handlers it names
    spec.write_text(json.dumps(SPEC))  # JSON is YAML
    out = tmp_path_factory.mktemp("export") / "openapi.json"
    assert main(["export", str(spec), "--output", str(out)]) == 0
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def gateway(cloud, files):
    """The daemon serving the same api step; its base URL (the stage)."""
    client = cloud["client"]
    answer = client.put("api-props", api_spec(api_step(ROUTES, CORS), files["root"]))
    yield f"http://127.0.0.1:{answer.port}/prod"
    client.delete("apis", "api-props")


@pytest.fixture(scope="module")
def as_exported(exported):
    return schemathesis.openapi.from_dict(exported)


@pytest.fixture(scope="module")
def with_any_json_bodies(exported):
    """The document with an open JSON request body on each POST/ANY operation, in place of the model
    it may declare: the gateway must hold under any body all the same (400 for what fails a model)."""
    document = copy.deepcopy(exported)
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "x-amazon-apigateway-any-method"):
                operation["requestBody"] = {"content": {"application/json": {"schema": {}}}}
    return schemathesis.openapi.from_dict(document)


def documented_5xx(document: dict, case) -> set[int]:
    """The server errors an answer to this operation may be: those its responses declare, and API
    Gateway's own (its gateway responses' 5xx and the 502/504 of failed integrations)."""
    declared = {int(code) for code in case.operation.definition.raw.get("responses", {}) if code.isdigit()}
    gateway = {
        int(response["statusCode"])
        for response in document.get("x-amazon-apigateway-gateway-responses", {}).values()
        if str(response.get("statusCode", "")).startswith("5")
    }
    return {code for code in declared | gateway | GATEWAY_5XX if code >= 500}


def judge(document: dict, case, response) -> None:
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 500:
        allowed = documented_5xx(document, case)
        assert response.status_code in allowed, (
            f"{case.method} {case.formatted_path}: {response.status_code} is not a documented server error "
            f"({sorted(allowed)}); body: {response.text[:300]}"
        )


def explore(document: dict, schema, gateway: str) -> dict[str, list[int]]:
    """Every operation of `schema`, its generated requests sent and judged; the statuses each got.

    Driven with Hypothesis directly (schemathesis' pytest plugin does not load under pytest 9):
    each operation's strategy, the bounded settings above, all failures reported at once."""
    ran, failures = {}, []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            ran[operation.label] = explore_one(document, operation, gateway)
        except AssertionError as exc:  # schemathesis' failed checks are AssertionErrors too
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n".join(failures)
    return ran


def explore_one(document: dict, operation, gateway: str) -> list[int]:
    """The status of each request Hypothesis generated for this operation; raises at the first it shrank to."""
    statuses = []

    @SETTINGS
    @given(case=operation.as_strategy())
    def one(case):
        response = case.call(base_url=gateway, timeout=30)
        statuses.append(response.status_code)
        judge(document, case, response)

    one()
    return statuses


def test_the_document_has_the_routes_served(exported):
    """What the generated requests cover: both integrations, a path parameter, the CORS preflights,
    and request bodies from the models the two routes to the model validate by."""
    operations = {(path, method) for path, ops in exported["paths"].items() for method in ops}
    assert {("/predict", "post"), ("/invocations", "post"), ("/predict", "options")} <= operations
    assert ("/items/{id}", "get") in operations
    assert ("/echo/{id}", "x-amazon-apigateway-any-method") in operations
    for path in ("/predict", "/invocations"):
        assert exported["paths"][path]["post"]["requestBody"]["required"] is True
    assert list(exported["components"]["schemas"].values()) == [ROWS_MODEL, ROWS_MODEL]


def test_answers_to_the_documented_requests_conform(as_exported, gateway, exported):
    """Bodies generated from the models succeed: every answer on those routes is 2xx, so the run
    exercised the success path through the Lambda and the direct integration, not only errors,
    and the gateway's validation lets through every body the document's model describes."""
    ran = explore(exported, as_exported, gateway)
    assert set(ran) >= {"POST /predict", "POST /invocations", "OPTIONS /predict", "GET /items/{id}"}
    assert all(ran.values()) and len(ran["GET /items/{id}"]) > 1
    for label in VALIDATED:
        assert len(ran[label]) > 1, label  # many bodies, not one
        assert all(200 <= status < 300 for status in ran[label]), (label, ran[label])


def test_any_json_body_gets_a_documented_answer(with_any_json_bodies, gateway, exported):
    """The models refuse most arbitrary bodies (400); the routes without one hand them to the Lambda
    and the model; neither answers a server error the document does not name."""
    ran = explore(exported, with_any_json_bodies, gateway)
    for label in VALIDATED:
        assert len(ran[label]) > 1, label  # many bodies, not the one empty one
        assert 400 in ran[label], (label, ran[label])
    for label in OPEN:  # their answers are the integrations' own: the Lambda's 502, the model's 400
        assert len(ran[label]) > 1, label


def test_the_blanket_server_error_rule_is_what_the_document_relaxes(exported):
    """schemathesis' own `not_a_server_error` would fail any 5xx; the document names some as answers."""
    assert not_a_server_error.__name__ == "not_a_server_error"
    direct = exported["paths"]["/invocations"]["post"]["responses"]
    assert "500" in direct  # the model's own error, passed through by the direct integration
