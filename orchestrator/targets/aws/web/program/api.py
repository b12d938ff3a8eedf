"""The REST API: exactly the document `orchestrator.apidoc` compiles, and the resources around it.

Reads as the whole API: the lambda routes' functions and the direct routes' role, whose
ARNs the document names; the REST API whose body is that document; a deployment keyed by
the document's hash; the stage with its access log and throttling; an optional API key.
Routes, integrations, CORS and gateway responses are all in the document: the program
builds none of them itself, so aws serves what `export openapi` prints and the local
gateway interprets.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from .....apidoc import ApiValues, compile_document, document_hash, document_json, route_key
from . import iam, naming
from .api_context import ApiContext
from .lambda_route import add_lambda_function, allow_invoke
from .naming import ACCESS_LOG_GROUP, dns_suffix, endpoint_arn, logical_name
from .settings import ApiSettings, Settings

# One JSON object per request, from API Gateway's $context variables for access logging:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference-access-logging-only
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "errorType": "$context.error.responseType",
    },
    separators=(",", ":"),
)


def document_output(
    settings: Settings,
    api: ApiSettings,
    functions: dict[str, aws.lambda_.Function],
    direct_role: aws.iam.Role | None,
) -> pulumi.Output[dict[str, Any]]:
    """The API document, compiled once the functions' and the role's ARNs are known."""
    keys = list(functions)

    def compile_with(values: list[Any]) -> dict[str, Any]:
        *arns, role_arn = values
        return compile_document(
            api.step,
            ApiValues(
                title=f"{settings.pipeline}-{api.stage}",
                region=settings.region,
                lambda_arns=dict(zip(keys, arns, strict=True)),
                invoke_role_arn=role_arn,
            ),
        )

    arns = [function.arn for function in functions.values()]
    return pulumi.Output.all(*arns, direct_role.arn if direct_role else None).apply(compile_with)


def build_api(settings: Settings, api: ApiSettings) -> dict[str, pulumi.Input]:
    """Create the API and return the stack outputs that describe it."""
    name = logical_name(settings.pipeline, api.stage)
    account_id = aws.get_caller_identity().account_id
    ctx = ApiContext(settings=settings, api=api, account_id=account_id)

    lambda_routes = [route for route in api.routes if route.integration == "lambda"]
    direct_routes = [route for route in api.routes if route.integration == "direct"]
    functions = {route_key(route): add_lambda_function(ctx, route) for route in lambda_routes}
    direct_role = (
        iam.api_gateway_invoke_role(
            logical_name(settings.pipeline, api.stage, "direct-role", limit=naming.ROLE),
            [endpoint_arn(settings.region, account_id, route.endpoint) for route in direct_routes],
            settings,
        )
        if direct_routes
        else None
    )
    document = document_output(settings, api, functions, direct_role)
    rest_api = aws.apigateway.RestApi(
        name,
        name=f"{settings.pipeline}-{api.stage}",
        description=f"orchestrator pipeline {settings.pipeline}, stage {api.stage}",
        body=document.apply(document_json),
        # The document is the whole API: what it no longer names is removed on import.
        put_rest_api_mode="overwrite",
        # A warning on import means API Gateway dropped part of the document (a model keyword, say):
        # fail the deploy rather than serve a weaker API than the one exported and served locally.
        fail_on_warnings=True,
        endpoint_configuration={"types": "REGIONAL"},
        tags=settings.tags,
    )
    permissions = [
        allow_invoke(ctx, route, functions[route_key(route)], rest_api.execution_arn) for route in lambda_routes
    ]

    digest = document.apply(document_hash)
    deployment = aws.apigateway.Deployment(
        name,
        rest_api=rest_api.id,
        description=digest.apply(lambda value: f"document {value[:12]}"),
        # A new deployment for every change of the document, removals included (a deployment is a
        # snapshot: one keyed by anything less kept serving removed routes, pulumi/pulumi-aws#3289).
        triggers={"document": digest},
        # The replacement is created and the stage moved to it before the old one is deleted
        # (a deployment a stage points at cannot be deleted): Pulumi's default, stated here.
        opts=pulumi.ResourceOptions(depends_on=permissions, delete_before_replace=False),
    )
    stage = aws.apigateway.Stage(
        name,
        rest_api=rest_api.id,
        deployment=deployment.id,
        stage_name=api.stage,
        access_log_settings=access_log_settings(name, settings, api),
        tags=settings.tags,
    )
    aws.apigateway.MethodSettings(
        f"{name}-throttling",
        rest_api=rest_api.id,
        stage_name=stage.stage_name,
        method_path="*/*",
        settings={
            "throttling_rate_limit": api.step.throttling.rate_limit,
            "throttling_burst_limit": api.step.throttling.burst_limit,
            "metrics_enabled": api.step.detailed_metrics,  # per-method CloudWatch metrics are billed: only when asked
        },
    )
    outputs: dict[str, pulumi.Input] = {}
    if api.step.api_key is not None:
        outputs.update(add_api_key(name, rest_api, stage, api, settings.tags))

    api_url = pulumi.Output.concat(
        "https://",
        rest_api.id,
        ".execute-api.",
        settings.region,
        ".",
        dns_suffix(settings.region),
        "/",
        stage.stage_name,
    )
    route_urls = api_url.apply(lambda url: {route_key(route): url + route.path for route in api.routes})
    return {"api_url": api_url, "api_id": rest_api.id, "route_urls": route_urls, **outputs}


def access_log_settings(name: str, settings: Settings, api: ApiSettings) -> dict[str, pulumi.Input] | None:
    """The stage's access log, in the group `orchestrator logs` reads, kept as long as the functions' logs.

    API Gateway writes it with the account's CloudWatch role (one per Region, an account-wide
    setting this program leaves alone): without one, CreateStage refuses access logging, so
    `access_log: false` deploys the stage without it.
    """
    if not api.access_log:
        return None
    group = aws.cloudwatch.LogGroup(
        f"{name}-access",
        name=ACCESS_LOG_GROUP.format(pipeline=settings.pipeline, stage=api.stage),
        retention_in_days=api.log_retention_days,
        tags=settings.tags,
    )
    return {"destination_arn": group.arn, "format": ACCESS_LOG_FORMAT}


def add_api_key(
    name: str, rest_api: aws.apigateway.RestApi, stage: aws.apigateway.Stage, api: ApiSettings, tags: dict[str, str]
) -> dict[str, pulumi.Input]:
    """An API key tied to the stage through a usage plan (its own throttle and optional quota)."""
    step = api.step
    assert step.api_key is not None
    key = aws.apigateway.ApiKey(f"{name}-key", description=f"Callers of {name}", enabled=True, tags=tags)
    quota = (
        {"limit": step.api_key.quota_limit, "period": step.api_key.quota_period} if step.api_key.quota_limit else None
    )
    plan = aws.apigateway.UsagePlan(
        f"{name}-plan",
        api_stages=[{"api_id": rest_api.id, "stage": stage.stage_name}],
        throttle_settings={"rate_limit": step.throttling.rate_limit, "burst_limit": step.throttling.burst_limit},
        quota_settings=quota,
        tags=tags,
    )
    aws.apigateway.UsagePlanKey(f"{name}-plan-key", key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id)
    return {"api_key_id": key.id, "api_key": pulumi.Output.secret(key.value)}
