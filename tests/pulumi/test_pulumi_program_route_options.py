"""Lambda routes that call no endpoint, and custom (non-proxy) ones, in the Pulumi program under mocks:
no InvokeEndpoint grant and no ENDPOINT_NAME without an endpoint, no CORS wrapper on a custom route."""

from __future__ import annotations

import json

import pytest

from orchestrator.targets.aws.web import stack_config as keys

from .api_runs import ENDPOINT_ARN, LAMBDA_ROUTE, all_actions, api_config, policy
from .pulumi_support import ProgramRun, run_program

HEALTH = {**{k: v for k, v in LAMBDA_ROUTE.items() if k != "endpoint"}, "method": "GET", "path": "/health"}
CUSTOM = {**LAMBDA_ROUTE, "path": "/custom", "proxy": False}


@pytest.fixture(scope="module")
def options_run(project) -> ProgramRun:
    return run_program(
        project,
        api_config(project, {"stage": "prod", "routes": [HEALTH, CUSTOM], "cors": {"allow_origins": ["*"]}}),
        stack="demo-route-options",
    )


def test_a_route_without_an_endpoint_may_invoke_none_and_is_not_told_one(options_run):
    assert options_run.error is None
    document = policy(options_run.named("RolePolicy", "demo-prod-get-health-role-policy"))
    assert "sagemaker:InvokeEndpoint" not in all_actions(document)
    assert "ENDPOINT_NAME" not in options_run.named("Function", "demo-prod-get-health")["environment"]["variables"]


def test_a_custom_route_keeps_its_endpoint_grant_but_gets_no_cors_wrapper(options_run):
    function = options_run.named("Function", "demo-prod-post-custom")
    variables = function["environment"]["variables"]
    assert variables["ENDPOINT_NAME"] == "Reviews-Endpoint"
    assert "ORCHESTRATOR_CORS" not in variables  # its return value is the body: nothing may add headers to it
    # the wrapper runs it only to name errors raised without a message (lambda_shim.error_message)
    assert function["handler"] == "lambda_shim.handler"
    assert variables["ORCHESTRATOR_HANDLER"] == "handler.lambda_handler" and variables["ORCHESTRATOR_CUSTOM"] == "1"
    document = policy(options_run.named("RolePolicy", "demo-prod-post-custom-role-policy"))
    by_sid = {statement["Sid"]: statement for statement in document["Statement"]}
    assert by_sid["InvokeTheEndpoints"]["Resource"] == [ENDPOINT_ARN]


def test_a_direct_route_written_by_hand_without_an_endpoint_is_a_clear_error(project):
    bad = {"stage": "prod", "routes": [{"method": "POST", "path": "/p", "integration": "direct"}]}
    run = run_program(project, {"aws:region": "eu-west-1", keys.API_KEY: json.dumps(bad)}, stack="demo-no-endpoint")
    assert run.error == "SettingsError: orchestrator:api routes[0] is a direct route without an endpoint"
