"""The program deploys exactly the document `orchestrator.apidoc` compiles, and redeploys on every
change of it: a removed route is gone from the next document and the deployment is replaced."""

from __future__ import annotations

import json

import pytest

from orchestrator.apidoc import compile_document, document_hash, document_json, offline_values, resolve_refs
from orchestrator.apidoc.values import static_outputs

from .api_runs import (
    DIRECT_API,
    DIRECT_ROUTE,
    LAMBDA_API,
    LAMBDA_ROUTE,
    MIXED_API,
    PLAIN_LAMBDA_API,
    api_config,
    api_step,
    deployed_document,
    deployed_values,
)
from .handoff_support import make_pipeline, resolved_api
from .pulumi_support import ProgramRun, run_program

BASE = {
    "stage": "prod",
    "routes": [LAMBDA_ROUTE, {**DIRECT_ROUTE, "path": "/score", "timeout_s": 5}],
    "cors": {"allow_origins": ["https://app.example"]},
}


# A model for each route's body: the document then holds components.schemas and request validators.
ROWS = {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array"}}}
VALIDATED = {
    "stage": "prod",
    "routes": [
        {**LAMBDA_ROUTE, "request_schema": ROWS},
        {**DIRECT_ROUTE, "content_type": "application/json", "request_schema": ROWS},
    ],
}


def trigger(run: ProgramRun) -> str:
    return run.named("Deployment", "demo-prod")["triggers"]["document"]


@pytest.fixture(scope="module")
def base_run(project) -> ProgramRun:
    return run_program(project, api_config(project, BASE), stack="demo-doc")


@pytest.fixture(scope="module")
def validated_run(project) -> ProgramRun:
    return run_program(project, api_config(project, VALIDATED), stack="demo-validated")


@pytest.mark.parametrize(
    ("fixture", "api"),
    [
        ("lambda_run", LAMBDA_API),
        ("direct_run", DIRECT_API),
        ("plain_lambda_run", PLAIN_LAMBDA_API),
        ("mixed_run", MIXED_API),
        ("base_run", BASE),
        ("validated_run", VALIDATED),
    ],
)
def test_the_body_is_the_compiled_document_byte_for_byte(fixture, api, request):
    run = request.getfixturevalue(fixture)
    assert run.error is None
    step = api_step(api)
    expected = document_json(compile_document(step, deployed_values(run, step)))
    assert deployed_document(run) == expected
    assert run.named("Deployment", f"demo-{step.stage}")["triggers"]["document"] == document_hash(json.loads(expected))


@pytest.mark.parametrize("request_schema", [None, ROWS], ids=["open-bodies", "request-schemas"])
def test_the_body_is_what_export_prints_with_the_deployed_arns(project, request_schema):
    """`export openapi` names the functions and role in a placeholder account; the deploy, the real ones."""
    pipeline = make_pipeline(deploy={"type": "endpoint", "model": "s3://models/model.tar.gz"})
    if request_schema is not None:  # every route validates its body
        data = pipeline.model_dump(mode="json", by_alias=True)
        for route in data["steps"]["api"]["routes"]:
            route["request_schema"] = request_schema
        pipeline = type(pipeline).model_validate(data)
    step = resolve_refs(pipeline.steps["api"], static_outputs(pipeline))
    offline = offline_values(pipeline, "api", step)
    exported = document_json(compile_document(step, offline))

    assert step == resolved_api(pipeline)  # the endpoint's name, as the executor resolves it
    config = api_config(project, step)  # what the hand-off writes for it
    run = run_program(project, config, stack="demo-export")
    assert run.error is None
    deployed = deployed_values(run, step)
    for key, arn in offline.lambda_arns.items():
        exported = exported.replace(arn, deployed.lambda_arns[key])
    exported = exported.replace(offline.invoke_role_arn, deployed.invoke_role_arn)
    assert deployed_document(run) == exported
    if request_schema is not None:
        assert json.loads(exported)["components"]["schemas"]  # the models did reach the deployed body


def test_a_removed_route_is_gone_from_the_next_document_and_redeploys(project, base_run):
    removed = run_program(project, api_config(project, {**BASE, "routes": [LAMBDA_ROUTE]}), stack="demo-doc")
    assert removed.error is None
    before, after = json.loads(deployed_document(base_run)), json.loads(deployed_document(removed))
    assert set(before["paths"]) == {"/predict", "/score"}
    assert set(after["paths"]) == {"/predict"}
    assert trigger(removed) != trigger(base_run)
    assert not [role for role in removed.of_type("Role") if role["name"].endswith("direct-role")]


@pytest.mark.parametrize(
    "change",
    [
        {"cors": {"allow_origins": ["https://other.example"]}},
        {"routes": [LAMBDA_ROUTE, {**DIRECT_ROUTE, "path": "/score", "timeout_s": 6}]},
        {"routes": [LAMBDA_ROUTE, {**DIRECT_ROUTE, "path": "/score", "timeout_s": 5, "accept": "application/json"}]},
        {"api_key": {}},
    ],
    ids=["cors-origin", "timeout", "accept", "api-key"],
)
def test_every_change_of_the_document_changes_the_deployment(project, base_run, change):
    changed = run_program(project, api_config(project, {**BASE, **change}), stack="demo-doc")
    assert changed.error is None
    assert deployed_document(changed) != deployed_document(base_run)
    assert trigger(changed) != trigger(base_run)


def test_what_is_not_in_the_document_keeps_the_deployment(project, base_run):
    """Throttling and metrics are stage settings (MethodSettings): they apply without a new deployment."""
    same = run_program(
        project,
        api_config(project, {**BASE, "throttling": {"rate_limit": 5, "burst_limit": 10}, "detailed_metrics": True}),
        stack="demo-doc",
    )
    assert deployed_document(same) == deployed_document(base_run)
    assert trigger(same) == trigger(base_run)
    assert same.named("MethodSettings", "demo-prod-throttling")["settings"]["throttlingRateLimit"] == 5
