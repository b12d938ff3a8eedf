"""The Pulumi program's API under mocks: each route kind, CORS on/off, API key on/off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.spec.models import ApiStep
from orchestrator.targets.aws.web import stack_config as keys

from .pulumi_support import ProgramRun, run_program

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/reviews-endpoint"


def api_config(project: Path, api: dict) -> dict[str, str]:
    """Stack config exactly as the hand-off writes it, from a real ApiStep."""
    step = ApiStep.model_validate({"type": "api", **api})
    config = {
        "aws:region": REGION,
        keys.PIPELINE_KEY: "demo",
        keys.PROJECT_DIR_KEY: str(project),
        keys.BUILD_DIR_KEY: str(project / "build"),
        keys.API_KEY: keys.encode(keys.api_document(step)),
    }
    if keys.api_environment(step):  # a secret key (run_program passes it as one)
        config[keys.API_ENVIRONMENT_KEY] = keys.encode(keys.api_environment(step))
    return config


LAMBDA_ROUTE = {
    "method": "POST",
    "path": "/predict",
    "integration": "lambda",
    "handler": "api/handler.py:lambda_handler",
    "endpoint": "Reviews-Endpoint",
    "timeout_s": 10,
    "memory_mb": 512,
    "environment": {"LOG_LEVEL": "debug"},
}
DIRECT_ROUTE = {
    "method": "POST",
    "path": "/invocations",
    "integration": "direct",
    "endpoint": "Reviews-Endpoint",
    "content_type": "text/csv",
    "accept": "text/csv",
}


@pytest.fixture(scope="module")
def lambda_run(project) -> ProgramRun:
    """A lambda route with CORS for any origin, an API key with a weekly quota, custom throttling."""
    return run_program(
        project,
        api_config(
            project,
            {
                "stage": "prod",
                "routes": [LAMBDA_ROUTE],
                "cors": {"allow_origins": ["*"]},
                "api_key": {"quota_limit": 1000, "quota_period": "WEEK"},
                "throttling": {"rate_limit": 20, "burst_limit": 40},
            },
        ),
    )


@pytest.fixture(scope="module")
def direct_run(project) -> ProgramRun:
    """A direct route, no CORS, no API key, default throttling."""
    return run_program(project, api_config(project, {"stage": "prod", "routes": [DIRECT_ROUTE]}))


@pytest.fixture(scope="module")
def plain_lambda_run(project) -> ProgramRun:
    """A lambda route without CORS: the handler is the function's handler, no shim."""
    return run_program(project, api_config(project, {"stage": "prod", "routes": [LAMBDA_ROUTE]}))


@pytest.fixture(scope="module")
def mixed_run(project) -> ProgramRun:
    """Both kinds on nested paths with parameters, CORS for two named origins with credentials."""
    return run_program(
        project,
        api_config(
            project,
            {
                "stage": "beta",
                "routes": [
                    {**LAMBDA_ROUTE, "method": "GET", "path": "/items/{id}"},
                    {**DIRECT_ROUTE, "method": "ANY", "path": "/items/{id}/score"},
                ],
                "cors": {
                    "allow_origins": ["https://a.example", "https://b.example"],
                    "allow_credentials": True,
                    "expose_headers": ["X-Request-Id"],
                },
            },
        ),
        stack="demo-beta",
    )


def policy(inputs: dict) -> dict:
    return json.loads(inputs["policy"])


def all_actions(document: dict) -> list[str]:
    actions = []
    for statement in document["Statement"]:
        value = statement["Action"]
        actions += value if isinstance(value, list) else [value]
    return actions


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
    bundle = Path(function["code"]["archive"])
    assert bundle.parent == project / "build"
    assert sorted(p.name for p in bundle.iterdir() if not p.name.startswith(".")) == ["handler.py", "helpers.py"]


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
    assert function["handler"] == "lambda_cors_shim.handler"
    variables = function["environment"]["variables"]
    assert variables["ORCHESTRATOR_HANDLER"] == "handler.lambda_handler"
    assert json.loads(variables["ORCHESTRATOR_CORS"]) == {
        "allow_origins": ["*"],
        "allow_credentials": False,
        "expose_headers": [],
    }
    assert variables["ENDPOINT_NAME"] == "Reviews-Endpoint"
    bundle = Path(function["code"]["archive"])
    assert sorted(p.name for p in bundle.iterdir() if not p.name.startswith(".")) == [
        "handler.py",
        "helpers.py",
        "lambda_cors_shim.py",
    ]


def test_lambda_log_group_has_retention(lambda_run):
    group = lambda_run.named("LogGroup", "demo-prod-post-predict")
    assert group["name"] == "/aws/lambda/demo-prod-post-predict"
    assert group["retentionInDays"] == 14


def test_lambda_integration_is_aws_proxy(lambda_run):
    integration = lambda_run.named("Integration", "demo-prod-post-predict")
    assert integration["type"] == "AWS_PROXY"
    assert integration["integrationHttpMethod"] == "POST"
    assert integration["uri"].endswith(":function:demo-prod-post-predict/invocations")
    assert integration["timeoutMilliseconds"] == 10000


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
    integration = direct_run.named("Integration", "demo-prod-post-invocations")
    assert integration["type"] == "AWS"
    assert integration["integrationHttpMethod"] == "POST"
    assert (
        integration["uri"]
        == f"arn:aws:apigateway:{REGION}:runtime.sagemaker:path//endpoints/Reviews-Endpoint/invocations"
    )
    assert integration["credentials"] == f"arn:aws:iam::{ACCOUNT}:role/demo-prod-direct-role"
    assert integration["requestParameters"] == {
        "integration.request.header.Content-Type": "'text/csv'",
        "integration.request.header.Accept": "'text/csv'",
    }
    assert integration["requestTemplates"] == {"application/json": "$input.body", "text/csv": "$input.body"}
    assert integration["passthroughBehavior"] == "WHEN_NO_TEMPLATES"


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
    statuses = {r["inputs"]["statusCode"]: r["inputs"] for r in direct_run.of_type("IntegrationResponse")}
    assert set(statuses) == {"200", "400", "500"}
    assert "selectionPattern" not in statuses["200"]
    assert statuses["400"]["selectionPattern"] == r"4\d{2}"
    assert statuses["500"]["selectionPattern"] == r"5\d{2}"
    for response in statuses.values():
        assert "responseTemplates" not in response  # bodies pass through, JSON or CSV
        assert response["responseParameters"] == {
            "method.response.header.Content-Type": "integration.response.header.Content-Type"
        }
    method_statuses = sorted(r["inputs"]["statusCode"] for r in direct_run.of_type("MethodResponse"))
    assert method_statuses == ["200", "400", "500"]


def test_direct_route_needs_no_lambda(direct_run):
    assert not direct_run.of_type("Function")
    assert not direct_run.of_type("Permission")


# -- CORS -----------------------------------------------------------------------------------


def test_cors_off_adds_no_options_and_no_gateway_responses(direct_run, plain_lambda_run):
    for run in (direct_run, plain_lambda_run):
        assert not [m for m in run.of_type("Method") if m["inputs"]["httpMethod"] == "OPTIONS"]
        assert not run.of_type("Response")
        for response in run.of_type("MethodResponse"):
            assert not [h for h in response["inputs"]["responseParameters"] if "Access-Control" in h]


def test_cors_preflight_is_a_mock_integration_with_headers(lambda_run):
    method = lambda_run.named("Method", "demo-prod-cors-predict-options")
    assert method["httpMethod"] == "OPTIONS"
    assert method["authorization"] == "NONE"
    assert method["apiKeyRequired"] is False  # browsers send no key on preflight
    assert lambda_run.named("Integration", "demo-prod-cors-predict-options")["type"] == "MOCK"
    declared = lambda_run.named("MethodResponse", "demo-prod-cors-predict-options-200")["responseParameters"]
    assert declared == {
        "method.response.header.Access-Control-Allow-Origin": True,
        "method.response.header.Access-Control-Allow-Methods": True,
        "method.response.header.Access-Control-Allow-Headers": True,
        "method.response.header.Access-Control-Max-Age": True,
    }
    values = lambda_run.named("IntegrationResponse", "demo-prod-cors-predict-options-200")["responseParameters"]
    assert values == {
        "method.response.header.Access-Control-Allow-Origin": "'*'",
        "method.response.header.Access-Control-Allow-Methods": "'POST,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key'",
        "method.response.header.Access-Control-Max-Age": "'600'",
    }


def test_cors_gateway_responses_cover_4xx_and_5xx(lambda_run):
    responses = {r["inputs"]["responseType"]: r["inputs"] for r in lambda_run.of_type("Response")}
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses.values():
        assert response["restApiId"] == "demo-prod-id"
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Methods"] == "'POST,OPTIONS'"


def test_cors_with_named_origins_echoes_the_allowed_origin(mixed_run):
    assert mixed_run.error is None
    options = {r["name"]: r["inputs"] for r in mixed_run.of_type("IntegrationResponse") if "options" in r["name"]}
    assert set(options) == {"demo-beta-cors-items-id-options-200", "demo-beta-cors-items-id-score-options-200"}
    score = options["demo-beta-cors-items-id-score-options-200"]
    assert score["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Credentials": "'true'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key'",
        "method.response.header.Access-Control-Max-Age": "'600'",
    }
    template = score["responseTemplates"]["application/json"]
    assert '#if($origin && ($origin == "https://a.example" || $origin == "https://b.example"))' in template
    assert "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)" in template
    declared = mixed_run.named("MethodResponse", "demo-beta-cors-items-id-score-options-200")["responseParameters"]
    assert {"method.response.header.Access-Control-Allow-Origin", "method.response.header.Vary"} <= set(declared)


def test_direct_route_with_echoed_origin_keeps_the_body(mixed_run):
    ok = mixed_run.named("IntegrationResponse", "demo-beta-any-items-id-score-200")
    assert ok["responseParameters"] == {
        "method.response.header.Content-Type": "integration.response.header.Content-Type",
        "method.response.header.Access-Control-Expose-Headers": "'X-Request-Id'",
        "method.response.header.Access-Control-Allow-Credentials": "'true'",
    }
    for media in ("application/json", "text/csv"):
        template = ok["responseTemplates"][media]
        assert template.endswith("#end\n$input.body")
        assert "responseOverride.header.Access-Control-Allow-Origin" in template
    declared = mixed_run.named("MethodResponse", "demo-beta-any-items-id-score-200")["responseParameters"]
    assert declared["method.response.header.Access-Control-Allow-Origin"] is True


def test_gateway_responses_echo_the_origin_when_not_a_star(mixed_run):
    for response in mixed_run.of_type("Response"):
        parameters = response["inputs"]["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.Origin"
        assert parameters["gatewayresponse.header.Vary"] == "'Origin'"
        assert parameters["gatewayresponse.header.Access-Control-Allow-Credentials"] == "'true'"


def test_lambda_shim_gets_the_named_origins(mixed_run):
    variables = mixed_run.named("Function", "demo-beta-get-items-id")["environment"]["variables"]
    assert json.loads(variables["ORCHESTRATOR_CORS"]) == {
        "allow_origins": ["https://a.example", "https://b.example"],
        "allow_credentials": True,
        "expose_headers": ["X-Request-Id"],
    }


# -- paths, stage, throttling, API keys ---------------------------------------------------------


def test_nested_paths_share_resources(mixed_run):
    resources = {r["name"]: r["inputs"] for r in mixed_run.of_type("Resource")}
    assert {name: r["pathPart"] for name, r in resources.items()} == {
        "demo-beta-path-items": "items",
        "demo-beta-path-items-id": "{id}",
        "demo-beta-path-items-id-score": "score",
    }
    assert resources["demo-beta-path-items"]["parentId"] == "root-id"
    assert resources["demo-beta-path-items-id-score"]["parentId"] == "demo-beta-path-items-id-id"
    permission = mixed_run.named("Permission", "demo-beta-get-items-id")
    assert permission["sourceArn"].endswith("demo-beta-id/*/GET/items/*")
    assert mixed_run.outputs["route_urls"]["ANY /items/{id}/score"].endswith("/beta/items/{id}/score")


def test_stage_and_deployment(lambda_run):
    stage = lambda_run.named("Stage", "demo-prod")
    assert stage["stageName"] == "prod"
    assert stage["deployment"] == "demo-prod-id"
    deployment = lambda_run.named("Deployment", "demo-prod")
    assert len(deployment["triggers"]["config"]) == 64  # a new deployment whenever the API changes


def test_throttling_from_the_spec(lambda_run):
    settings = lambda_run.named("MethodSettings", "demo-prod-throttling")
    assert settings["methodPath"] == "*/*"
    assert settings["stageName"] == "prod"
    assert settings["settings"]["throttlingRateLimit"] == 20
    assert settings["settings"]["throttlingBurstLimit"] == 40


def test_throttling_has_safe_defaults(direct_run):
    settings = direct_run.named("MethodSettings", "demo-prod-throttling")["settings"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (50, 100)


def test_api_key_with_usage_plan_and_quota(lambda_run):
    assert lambda_run.named("Method", "demo-prod-post-predict")["apiKeyRequired"] is True
    plan = lambda_run.named("UsagePlan", "demo-prod-plan")
    assert plan["apiStages"] == [{"apiId": "demo-prod-id", "stage": "prod"}]
    assert plan["quotaSettings"] == {"limit": 1000, "period": "WEEK"}
    assert plan["throttleSettings"] == {"rateLimit": 20, "burstLimit": 40}
    link = lambda_run.named("UsagePlanKey", "demo-prod-plan-key")
    assert link == {"keyId": "demo-prod-key-id", "keyType": "API_KEY", "usagePlanId": "demo-prod-plan-id"}
    assert lambda_run.outputs["api_key_id"] == "demo-prod-key-id"


def test_api_key_off(direct_run, plain_lambda_run, mixed_run):
    for run in (direct_run, plain_lambda_run, mixed_run):
        assert not run.of_type("ApiKey") and not run.of_type("UsagePlan")
        assert all(m["inputs"]["apiKeyRequired"] is False for m in run.of_type("Method"))
        assert "api_key_id" not in run.outputs


def test_no_website_without_its_config(lambda_run):
    assert not [t for t in lambda_run.types() if t.startswith("Bucket")]
    assert "website_url" not in lambda_run.outputs


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
