"""What the aws Deployment is keyed by: the document changes exactly when what API Gateway serves changes."""

from __future__ import annotations

import dataclasses

import pytest

from orchestrator.apidoc import compile_document, document_hash, document_json
from orchestrator.apidoc.values import function_name
from tests.unit.apidoc_cases import DIRECT_ROUTE, LAMBDA_ROUTE, api_step, document, values_for

BASE = {"routes": [LAMBDA_ROUTE, DIRECT_ROUTE], "cors": {"allow_origins": ["*"]}}


def with_route(index: int, **change):
    routes = [dict(route) for route in BASE["routes"]]
    routes[index].update(change)
    return {**BASE, "routes": routes}


def with_cors(**change):
    return {**BASE, "cors": {**BASE["cors"], **change}}


# Every setting the document holds, changed one at a time.
CHANGES = {
    "lambda method": with_route(0, method="PUT"),
    "lambda path": with_route(0, path="/score"),
    "lambda timeout": with_route(0, timeout_s=3),
    "lambda becomes direct": with_route(0, integration="direct", handler=None),
    "direct endpoint": with_route(1, endpoint="other-endpoint"),
    "direct timeout": with_route(1, timeout_s=5),
    "direct content type": with_route(1, content_type="text/csv"),
    "direct accept": with_route(1, accept="text/csv"),
    "route added": {**BASE, "routes": [*BASE["routes"], {**LAMBDA_ROUTE, "path": "/health", "method": "GET"}]},
    "route removed": {**BASE, "routes": [DIRECT_ROUTE]},
    "cors origins": with_cors(allow_origins=["https://site.example"]),
    "cors methods": with_cors(allow_methods=["GET"]),
    "cors headers": with_cors(allow_headers=["Content-Type"]),
    "cors expose": with_cors(expose_headers=["X-Model"]),
    "cors max age": with_cors(max_age_s=60),
    "cors credentials": with_cors(allow_origins=["https://site.example"], allow_credentials=True),
    "cors removed": {"routes": BASE["routes"]},
    "api key": {**BASE, "api_key": {}},
}

# Settings of the Lambda functions, the stage and the usage plan: Pulumi resources beside the
# document. Changing them must not redeploy the API.
OUTSIDE = {
    "stage throttling": {**BASE, "throttling": {"rate_limit": 5, "burst_limit": 10}},
    "lambda memory": with_route(0, memory_mb=1024),
    "lambda environment": with_route(0, environment={"A": "1"}),
    "lambda handler": with_route(0, handler="other.py:main"),
    "lambda runtime": with_route(0, runtime="python3.13"),
    "lambda endpoint": with_route(0, endpoint="another"),
}


def hash_of(fields, **values) -> str:
    api = api_step(**fields)
    base = values_for(api)
    return document_hash(compile_document(api, dataclasses.replace(base, **values)))


def test_same_step_gives_the_same_hash_and_bytes():
    assert hash_of(BASE) == hash_of(BASE)
    assert document_json(document(**BASE)) == document_json(document(**BASE))


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_hash_changes_with_every_setting_the_document_holds(name):
    assert hash_of(CHANGES[name]) != hash_of(BASE)


def test_every_change_gives_a_distinct_document():
    hashes = {name: hash_of(fields) for name, fields in CHANGES.items()}
    assert len(set(hashes.values())) == len(hashes)


@pytest.mark.parametrize(
    "values",
    [
        {"region": "cn-north-1"},
        {"title": "demo-staging"},
        {"lambda_arns": {"POST /predict": "arn:aws:lambda:eu-west-1:123456789012:function:other"}},
        {"invoke_role_arn": "arn:aws:iam::123456789012:role/other"},
    ],
)
def test_hash_changes_with_every_resolved_value(values):
    assert hash_of(BASE, **values) != hash_of(BASE)


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_settings_outside_the_document_leave_the_hash_alone(name):
    assert hash_of(OUTSIDE[name]) == hash_of(BASE)


def test_route_order_in_the_spec_does_not_matter():
    assert hash_of({**BASE, "routes": list(reversed(BASE["routes"]))}) == hash_of(BASE)


def test_removing_a_route_removes_its_path_and_its_preflight():
    before = document(**BASE)
    after = document(**{**BASE, "routes": [DIRECT_ROUTE]})
    assert "/predict" in before["paths"]
    assert set(after["paths"]) == {"/invocations"}


def test_removing_one_method_keeps_the_paths_others():
    doc = document(**{**BASE, "routes": [LAMBDA_ROUTE, {**LAMBDA_ROUTE, "method": "GET"}]})
    fewer = document(**{**BASE, "routes": [{**LAMBDA_ROUTE, "method": "GET"}]})
    assert set(doc["paths"]["/predict"]) == {"post", "get", "options"}
    assert set(fewer["paths"]["/predict"]) == {"get", "options"}


def test_region_partition_reaches_every_arn():
    doc = compile_document(api_step(), values_for(api_step(), region="cn-north-1"))
    uri = doc["paths"]["/invocations"]["post"]["x-amazon-apigateway-integration"]["uri"]
    assert uri.startswith("arn:aws-cn:apigateway:cn-north-1:runtime.sagemaker:")


def test_offline_function_names_stay_within_lambdas_limit_and_distinct():
    long_a = function_name("a-pipeline-named-at-length", "api", "post-items-id-details-and-more-a")
    long_b = function_name("a-pipeline-named-at-length", "api", "post-items-id-details-and-more-b")
    assert len(long_a) <= 64 and len(long_b) <= 64
    assert long_a != long_b
    assert function_name("iris", "api", "post-predict") == "iris-api-post-predict"
