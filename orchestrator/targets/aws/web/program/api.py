"""The REST API: resources for the routes' paths, their integrations, a stage, limits, keys.

Reads as the whole API: build the path tree, add each route by kind, add CORS,
deploy to the stage, then throttle and (optionally) require an API key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pulumi
import pulumi_aws as aws

from . import cors, iam, naming
from .api_context import ApiContext
from .direct_route import add_direct_route
from .lambda_route import add_lambda_route
from .naming import dns_suffix, endpoint_arn, logical_name
from .settings import ApiSettings, Settings


class ResourceTree:
    """API Gateway resources for URL paths, one per segment, created once and shared."""

    def __init__(self, name: str, rest_api: aws.apigateway.RestApi):
        self._name = name
        self._rest_api = rest_api
        self._ids: dict[str, pulumi.Output[str]] = {"/": rest_api.root_resource_id}

    def resource_id(self, path: str) -> pulumi.Output[str]:
        path = "/" + path.strip("/")
        if path not in self._ids:
            parent, _, segment = path.rpartition("/")
            resource = aws.apigateway.Resource(
                logical_name(self._name, "path", path),
                rest_api=self._rest_api.id,
                parent_id=self.resource_id(parent or "/"),
                path_part=segment,
            )
            self._ids[path] = resource.id
        return self._ids[path]


def config_digest(api: ApiSettings) -> str:
    """Changes whenever routes, CORS or keys change, so the stage gets a new deployment."""
    return hashlib.sha256(json.dumps(asdict(api), sort_keys=True, default=str).encode()).hexdigest()


def build_api(settings: Settings, api: ApiSettings) -> dict[str, pulumi.Input]:
    """Create the API and return the stack outputs that describe it."""
    name = logical_name(settings.pipeline, api.stage)
    account_id = aws.get_caller_identity().account_id
    rest_api = aws.apigateway.RestApi(
        name,
        name=f"{settings.pipeline}-{api.stage}",
        description=f"orchestrator pipeline {settings.pipeline}, stage {api.stage}",
        endpoint_configuration={"types": "REGIONAL"},
        api_key_source="HEADER",
        tags=settings.tags,
    )
    ctx = ApiContext(settings=settings, api=api, rest_api=rest_api, account_id=account_id)
    tree = ResourceTree(name, rest_api)

    parts: list[pulumi.Resource] = []
    direct_routes = [route for route in api.routes if route.integration == "direct"]
    direct_role = (
        iam.api_gateway_invoke_role(
            logical_name(settings.pipeline, api.stage, "direct-role", limit=naming.ROLE),
            [endpoint_arn(settings.region, account_id, route.endpoint_name) for route in direct_routes],
            settings,
        )
        if direct_routes
        else None
    )
    for route in api.routes:
        resource_id = tree.resource_id(route.path)
        if route.integration == "lambda":
            parts += add_lambda_route(ctx, route, resource_id)
        else:
            parts += add_direct_route(ctx, route, resource_id, direct_role)

    if api.cors:
        methods_by_path: dict[str, list[str]] = {}
        for route in api.routes:
            methods_by_path.setdefault("/" + route.path.strip("/"), []).append(route.method)
        for path, methods in methods_by_path.items():
            parts += cors.add_preflight(
                logical_name(name, "cors", path), rest_api, tree.resource_id(path), api.cors, methods
            )
        parts += cors.add_gateway_responses(f"{name}-cors", rest_api, api.cors, [r.method for r in api.routes])

    deployment = aws.apigateway.Deployment(
        name,
        rest_api=rest_api.id,
        description=f"routes {config_digest(api)[:12]}",
        triggers={"config": config_digest(api)},
        opts=pulumi.ResourceOptions(depends_on=parts),
    )
    stage = aws.apigateway.Stage(
        name,
        rest_api=rest_api.id,
        deployment=deployment.id,
        stage_name=api.stage,
        tags=settings.tags,
    )
    aws.apigateway.MethodSettings(
        f"{name}-throttling",
        rest_api=rest_api.id,
        stage_name=stage.stage_name,
        method_path="*/*",
        settings={
            "throttling_rate_limit": api.throttling.rate_limit,
            "throttling_burst_limit": api.throttling.burst_limit,
            "metrics_enabled": api.detailed_metrics,  # per-method CloudWatch metrics are billed: only when asked
        },
    )
    outputs: dict[str, pulumi.Input] = {}
    if api.api_key is not None:
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
    route_urls = api_url.apply(lambda url: {route.key: url + route.path for route in api.routes})
    return {"api_url": api_url, "api_id": rest_api.id, "route_urls": route_urls, **outputs}


def add_api_key(
    name: str, rest_api: aws.apigateway.RestApi, stage: aws.apigateway.Stage, api: ApiSettings, tags: dict[str, str]
) -> dict[str, pulumi.Input]:
    """An API key tied to the stage through a usage plan (its own throttle and optional quota)."""
    assert api.api_key is not None
    key = aws.apigateway.ApiKey(f"{name}-key", description=f"Callers of {name}", enabled=True, tags=tags)
    quota = {"limit": api.api_key.quota_limit, "period": api.api_key.quota_period} if api.api_key.quota_limit else None
    plan = aws.apigateway.UsagePlan(
        f"{name}-plan",
        api_stages=[{"api_id": rest_api.id, "stage": stage.stage_name}],
        throttle_settings={"rate_limit": api.throttling.rate_limit, "burst_limit": api.throttling.burst_limit},
        quota_settings=quota,
        tags=tags,
    )
    aws.apigateway.UsagePlanKey(f"{name}-plan-key", key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id)
    return {"api_key_id": key.id, "api_key": pulumi.Output.secret(key.value)}
