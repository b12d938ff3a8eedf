"""The Pulumi program's API under mocks: CORS on/off, paths, the stage, throttling, API keys."""

from __future__ import annotations

import json

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
