"""The Pulumi program's API under mocks: CORS and keys as the document states them, the stage,
its access log, throttling, the usage plan. The document itself is `orchestrator.apidoc`'s
(tested there); here: that the deployed API carries it and nothing built beside it."""

from __future__ import annotations

import json

from orchestrator.apidoc.paths import ANY_METHOD, INTEGRATION
from orchestrator.targets.aws import logs
from orchestrator.targets.aws.web.program.api import ACCESS_LOG_FORMAT

from .api_runs import ACCOUNT, REGION, api_config, deployed_document
from .pulumi_support import run_program

PER_ROUTE_TYPES = {"Resource", "Method", "Integration", "MethodResponse", "IntegrationResponse", "Response"}


def test_no_resource_method_or_integration_is_built_beside_the_document(lambda_run, direct_run, mixed_run):
    for run in (lambda_run, direct_run, mixed_run):
        assert not run.types() & PER_ROUTE_TYPES
        [rest_api] = run.of_type("RestApi")
        assert rest_api["inputs"]["putRestApiMode"] == "overwrite"
        assert rest_api["inputs"]["failOnWarnings"] is True  # nothing of the document dropped silently
        assert rest_api["inputs"]["endpointConfiguration"] == {"types": "REGIONAL"}
        assert "apiKeySource" not in rest_api["inputs"]  # the document's own: an argument would override it


# -- CORS -----------------------------------------------------------------------------------


def test_cors_off_adds_no_preflight_and_no_cors_headers(direct_run, plain_lambda_run):
    for run in (direct_run, plain_lambda_run):
        document = json.loads(deployed_document(run))
        assert not [path for path, item in document["paths"].items() if "options" in item]
        assert "Access-Control" not in deployed_document(run)


def test_cors_preflight_is_a_mock_integration_with_headers(lambda_run):
    options = json.loads(deployed_document(lambda_run))["paths"]["/predict"]["options"]
    assert "security" not in options  # browsers send no key on preflight
    integration = options[INTEGRATION]
    assert integration["type"] == "mock"
    assert integration["responses"]["default"]["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": "'*'",
        "method.response.header.Access-Control-Allow-Methods": "'POST,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key'",
        "method.response.header.Access-Control-Max-Age": "'600'",
    }
    assert set(options["responses"]["200"]["headers"]) == {
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
    }


def test_cors_gateway_responses_are_in_the_document(lambda_run):
    responses = json.loads(deployed_document(lambda_run))["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"} <= set(responses)
    for response in responses.values():
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Methods"] == "'POST,OPTIONS'"


def test_cors_with_named_origins_echoes_the_allowed_origin(mixed_run):
    assert mixed_run.error is None
    paths = json.loads(deployed_document(mixed_run))["paths"]
    assert set(paths) == {"/items/{id}", "/items/{id}/score"}
    score = paths["/items/{id}/score"]
    answer = score["options"][INTEGRATION]["responses"]["default"]
    assert answer["responseParameters"]["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
    assert "method.response.header.Access-Control-Allow-Origin" not in answer["responseParameters"]
    template = answer["responseTemplates"]["application/json"]
    assert '#if($origin && ($origin == "https://a.example" || $origin == "https://b.example"))' in template
    assert "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)" in template
    ok = score[ANY_METHOD][INTEGRATION]["responses"]["default"]
    assert ok["responseTemplates"]["text/csv"].endswith("#end\n$input.body")  # the body still passes through


def test_gateway_responses_echo_the_origin_when_not_a_star(mixed_run):
    responses = json.loads(deployed_document(mixed_run))["x-amazon-apigateway-gateway-responses"]
    for response in responses.values():
        parameters = response["responseParameters"]
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


# -- paths, permissions, stage, access log, throttling, API keys ------------------------------------


def test_permissions_are_scoped_to_each_routes_method_and_path(mixed_run):
    permission = mixed_run.named("Permission", "demo-beta-get-items-id")
    assert permission["sourceArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:demo-beta-id/*/GET/items/*"
    assert permission["function"] == mixed_run.named("Function", "demo-beta-get-items-id")["name"]
    assert len(mixed_run.of_type("Permission")) == 1  # the direct route calls SageMaker, no function
    assert mixed_run.outputs["route_urls"]["ANY /items/{id}/score"].endswith("/beta/items/{id}/score")


def test_stage_and_deployment(lambda_run):
    stage = lambda_run.named("Stage", "demo-prod")
    assert stage["stageName"] == "prod"
    assert stage["deployment"] == "demo-prod-id"
    deployment = lambda_run.named("Deployment", "demo-prod")
    assert deployment["restApi"] == "demo-prod-id"
    assert len(deployment["triggers"]["document"]) == 64  # the document's hash: a new deployment on every change


def test_the_stage_logs_access_where_orchestrator_logs_reads(lambda_run):
    group = lambda_run.named("LogGroup", "demo-prod-access")
    assert (
        group["name"]
        == logs.ACCESS_LOG_GROUP.format(pipeline="demo", stage="prod")
        == "/aws/apigateway/demo-prod/access"
    )
    assert group["retentionInDays"] == 14
    settings = lambda_run.named("Stage", "demo-prod")["accessLogSettings"]
    assert settings["destinationArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/apigateway/demo-prod/access"
    fields = json.loads(settings["format"])  # one JSON object per request
    assert settings["format"] == ACCESS_LOG_FORMAT
    assert {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "responseLatency": "$context.responseLatency",
    }.items() <= fields.items()


def test_access_log_retention_and_opting_out(project):
    api = {"stage": "prod", "routes": [{"method": "POST", "path": "/p", "integration": "direct", "endpoint": "ep"}]}
    config = api_config(project, api)
    document = json.loads(config["orchestrator:api"])
    kept = run_program(project, {**config, "orchestrator:api": json.dumps({**document, "log_retention_days": 90})})
    assert kept.named("LogGroup", "demo-prod-access")["retentionInDays"] == 90
    off = run_program(project, {**config, "orchestrator:api": json.dumps({**document, "access_log": False})})
    assert off.error is None
    assert not off.of_type("LogGroup")
    assert "accessLogSettings" not in off.named("Stage", "demo-prod")


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
    document = json.loads(deployed_document(lambda_run))
    assert document["paths"]["/predict"]["post"]["security"] == [{"api_key": []}]
    assert document["x-amazon-apigateway-api-key-source"] == "HEADER"
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
        document = json.loads(deployed_document(run))
        assert "x-amazon-apigateway-api-key-source" not in document
        assert not [op for item in document["paths"].values() for op in item.values() if "security" in op]
        assert "api_key_id" not in run.outputs


def test_no_website_without_its_config(lambda_run):
    assert not [t for t in lambda_run.types() if t.startswith("Bucket")]
    assert "website_url" not in lambda_run.outputs
