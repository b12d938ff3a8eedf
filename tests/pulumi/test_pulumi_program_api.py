"""The Pulumi program's API under mocks: lambda and direct routes, their roles and permissions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.apidoc.paths import INTEGRATION
from orchestrator.targets.aws.web import stack_config as keys

from .api_runs import (
    ACCOUNT,
    ENDPOINT_ARN,
    LAMBDA_ROUTE,
    REGION,
    all_actions,
    api_config,
    deployed_document,
    policy,
    zip_names,
)
from .pulumi_support import ProgramRun, run_program

# -- lambda routes ------------------------------------------------------------------------


def test_lambda_route_runs_without_error_and_exports_urls(lambda_run):
    assert lambda_run.error is None
    base = f"https://demo-prod-id.execute-api.{REGION}.amazonaws.com/prod"
    assert lambda_run.outputs["api_url"] == base
    assert lambda_run.outputs["route_urls"] == {"POST /predict": f"{base}/predict"}
    assert lambda_run.outputs["api_id"] == "demo-prod-id"


def test_lambda_function_settings(plain_lambda_run, project):
    assert plain_lambda_run.error is None
    function = plain_lambda_run.named("Function", "demo-prod-post-predict")
    assert function["runtime"] == "python3.12"
    assert function["handler"] == "handler.lambda_handler"
    assert function["timeout"] == 10
    assert function["memorySize"] == 512
    assert function["environment"]["variables"] == {"ENDPOINT_NAME": "Reviews-Endpoint", "LOG_LEVEL": "debug"}
    assert plain_lambda_run.secret_inputs("Function", "demo-prod-post-predict") == ["environment"]
    assert function["loggingConfig"]["logGroup"] == "/aws/lambda/demo-prod-post-predict"
    bundle = Path(function["code"]["archive"])  # one zip, in the build folder
    assert bundle.parent == project / "build" and bundle.suffix == ".zip"
    assert zip_names(bundle) == ["handler.py", "helpers.py"]


def test_route_environment_is_read_as_a_secret(project):
    """`${env:...}` values reach the function, secret in the state too; never in the plain api key."""
    config = api_config(
        project,
        {
            "stage": "prod",
            "routes": [
                {**LAMBDA_ROUTE, "environment": {"OPENAI_API_KEY": "sk-live-123"}},
                {**LAMBDA_ROUTE, "method": "GET", "environment": {}},
            ],
        },
    )
    assert "sk-live-123" not in config[keys.API_KEY]
    run = run_program(project, config, stack="demo-secret")
    assert run.error is None
    post = run.named("Function", "demo-prod-post-predict")["environment"]["variables"]
    assert post == {"ENDPOINT_NAME": "Reviews-Endpoint", "OPENAI_API_KEY": "sk-live-123"}
    assert run.named("Function", "demo-prod-get-predict")["environment"]["variables"] == {
        "ENDPOINT_NAME": "Reviews-Endpoint"
    }
    assert run.secret_inputs("Function", "demo-prod-post-predict") == ["environment"]


def test_plain_environment_written_by_hand_still_works(project):
    config = api_config(project, {"stage": "prod", "routes": [LAMBDA_ROUTE]})
    api = json.loads(config.pop(keys.API_ENVIRONMENT_KEY))
    document = json.loads(config[keys.API_KEY])
    document["routes"][0]["environment"] = api["POST /predict"]
    config[keys.API_KEY] = json.dumps(document)
    run = run_program(project, config, stack="demo-by-hand")
    assert run.error is None
    variables = run.named("Function", "demo-prod-post-predict")["environment"]["variables"]
    assert variables == {"ENDPOINT_NAME": "Reviews-Endpoint", "LOG_LEVEL": "debug"}
    assert run.secret_inputs("Function", "demo-prod-post-predict") == []


def test_lambda_with_cors_is_wrapped_by_the_shim(lambda_run):
    function = lambda_run.named("Function", "demo-prod-post-predict")
    assert function["handler"] == "lambda_shim.handler"
    variables = function["environment"]["variables"]
    assert variables["ORCHESTRATOR_HANDLER"] == "handler.lambda_handler"
    assert json.loads(variables["ORCHESTRATOR_CORS"]) == {
        "allow_origins": ["*"],
        "allow_credentials": False,
        "expose_headers": [],
    }
    assert variables["ENDPOINT_NAME"] == "Reviews-Endpoint"
    assert zip_names(Path(function["code"]["archive"])) == ["handler.py", "helpers.py", "lambda_shim.py"]


def test_lambda_log_group_has_retention(lambda_run):
    group = lambda_run.named("LogGroup", "demo-prod-post-predict")
    assert group["name"] == "/aws/lambda/demo-prod-post-predict"
    assert group["retentionInDays"] == 14


def test_lambda_integration_is_aws_proxy(lambda_run):
    integration = json.loads(deployed_document(lambda_run))["paths"]["/predict"]["post"][INTEGRATION]
    assert integration["type"] == "aws_proxy"
    assert integration["httpMethod"] == "POST"
    function = lambda_run.named("Function", "demo-prod-post-predict")["name"]
    assert function.startswith("demo-prod-post-predict-") and len(function) == len("demo-prod-post-predict-") + 7
    assert integration["uri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}/invocations"
    )
    assert integration["timeoutInMillis"] == 10000


def test_lambda_permission_is_scoped_to_this_api(lambda_run):
    permission = lambda_run.named("Permission", "demo-prod-post-predict")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["sourceArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:demo-prod-id/*/POST/predict"


def test_lambda_role_is_least_privilege(lambda_run):
    role = lambda_run.named("Role", "demo-prod-post-predict-role")
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    assert "managedPolicyArns" not in role
    document = policy(lambda_run.named("RolePolicy", "demo-prod-post-predict-role-policy"))
    assert not [a for a in all_actions(document) if "*" in a]
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/demo-prod-post-predict"
    assert by_sid["WriteOwnLogs"]["Resource"] == [group_arn, f"{group_arn}:*"]
    assert by_sid["InvokeTheEndpoints"]["Action"] == "sagemaker:InvokeEndpoint"
    assert by_sid["InvokeTheEndpoints"]["Resource"] == [ENDPOINT_ARN]


def test_no_managed_or_wildcard_policies_anywhere(lambda_run, plain_lambda_run, direct_run, mixed_run):
    for run in (lambda_run, plain_lambda_run, direct_run, mixed_run):
        assert not run.of_type("RolePolicyAttachment")
        assert not run.of_type("Policy")
        for item in run.of_type("RolePolicy"):
            assert not [a for a in all_actions(policy(item["inputs"])) if "*" in a]


# -- direct routes ------------------------------------------------------------------------


def test_direct_integration_calls_sagemaker_runtime(direct_run):
    assert direct_run.error is None
    integration = json.loads(deployed_document(direct_run))["paths"]["/invocations"]["post"][INTEGRATION]
    assert integration["type"] == "aws"
    assert integration["httpMethod"] == "POST"
    assert (
        integration["uri"]
        == f"arn:aws:apigateway:{REGION}:runtime.sagemaker:path//endpoints/Reviews-Endpoint/invocations"
    )
    role = direct_run.named("Role", "demo-prod-direct-role")["name"]
    assert integration["credentials"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
    assert integration["requestParameters"] == {
        "integration.request.header.Content-Type": "'text/csv'",
        "integration.request.header.Accept": "'text/csv'",
    }
    assert integration["requestTemplates"] == {"text/csv": "$input.body"}
    assert integration["passthroughBehavior"] == "never"  # other content types get 415, not a mangled body


def test_direct_role_is_assumed_by_api_gateway_and_scoped_to_the_endpoint(direct_run):
    role = direct_run.named("Role", "demo-prod-direct-role")
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    document = policy(direct_run.named("RolePolicy", "demo-prod-direct-role-invoke"))
    assert document["Statement"] == [
        {
            "Sid": "InvokeTheEndpoints",
            "Effect": "Allow",
            "Action": "sagemaker:InvokeEndpoint",
            "Resource": [ENDPOINT_ARN],
        }
    ]


def test_direct_responses_pass_through_and_map_errors(direct_run):
    operation = json.loads(deployed_document(direct_run))["paths"]["/invocations"]["post"]
    responses = operation[INTEGRATION]["responses"]
    assert {pattern: r["statusCode"] for pattern, r in responses.items()} == {
        "default": "200",
        r"4\d{2}": "400",
        r"5\d{2}": "500",
    }
    assert responses["default"]["responseParameters"] == {
        "method.response.header.Content-Type": "integration.response.header.Content-Type"
    }
    assert "responseTemplates" not in responses["default"]  # the model's body passes through, JSON or CSV
    for pattern in (r"4\d{2}", r"5\d{2}"):  # a generic body, never SageMaker's (the model's traceback)
        assert "$input.body" not in responses[pattern]["responseTemplates"]["application/json"]
    assert sorted(operation["responses"]) == ["200", "400", "500"]


def test_direct_route_needs_no_lambda(direct_run):
    assert not direct_run.of_type("Function")
    assert not direct_run.of_type("Permission")


@pytest.fixture(scope="module")
def reading_run(project) -> ProgramRun:
    """A lambda route that loads a transform saved by training from S3 (s3_read)."""
    route = {
        **LAMBDA_ROUTE,
        "s3_read": [
            "s3://ml-artifacts/features/job-1/output/model.tar.gz",
            "s3://ml-artifacts/lookups/",
            "file:///local/only/model.tar.gz",
        ],
    }
    return run_program(project, api_config(project, {"stage": "prod", "routes": [route]}))


def test_lambda_reads_only_the_s3_objects_its_route_names(reading_run, plain_lambda_run):
    document = policy(reading_run.named("RolePolicy", "demo-prod-post-predict-role-policy"))
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["ReadNamedObjects"] == {
        "Sid": "ReadNamedObjects",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": [
            "arn:aws:s3:::ml-artifacts/features/job-1/output/model.tar.gz",
            "arn:aws:s3:::ml-artifacts/lookups/*",
        ],
    }
    plain = policy(plain_lambda_run.named("RolePolicy", "demo-prod-post-predict-role-policy"))
    assert "s3:GetObject" not in all_actions(plain)
