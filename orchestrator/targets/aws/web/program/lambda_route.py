"""A `lambda` route: the user's handler as a Lambda function behind an AWS_PROXY integration."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pulumi
import pulumi_aws as aws

from . import iam, lambda_cors_shim
from .api_context import ApiContext, method
from .cors import lambda_shim_policy
from .lambda_package import build_bundle, handler_parts, lambda_handler_setting
from .naming import endpoint_arn, execute_api_source_path, logical_name
from .settings import RouteSettings

SHIM_FILE = Path(lambda_cors_shim.__file__)
SHIM_HANDLER = f"{SHIM_FILE.stem}.handler"


def function_environment(ctx: ApiContext, route: RouteSettings) -> pulumi.Input[dict[str, str]]:
    """What the handler reads: the spec's variables and the endpoint's name (as on the local target).

    The spec's variables come from the secret `orchestrator:apiEnvironment` (then the result is a
    secret Output) and/or the route's plain `environment` (written by hand).
    """
    fixed = {"ENDPOINT_NAME": route.endpoint_name}
    if ctx.api.cors:
        fixed[lambda_cors_shim.HANDLER_VARIABLE] = lambda_handler_setting(route.handler or "")
        fixed[lambda_cors_shim.POLICY_VARIABLE] = json.dumps(lambda_shim_policy(ctx.api.cors), sort_keys=True)
    secrets = ctx.settings.route_environments
    if secrets is None:
        return {**route.environment, **fixed}
    return secrets.apply(lambda by_route: {**route.environment, **(by_route.get(route.key) or {}), **fixed})


def add_lambda_route(ctx: ApiContext, route: RouteSettings, resource_id: pulumi.Input[str]) -> list[pulumi.Resource]:
    settings = ctx.settings
    name = logical_name(settings.pipeline, ctx.api.stage, route.key)
    handler_file, _ = handler_parts(route.handler or "")
    requirements = settings.path(route.requirements) if route.requirements else None
    # With CORS the shim wraps the handler, adding the headers API Gateway cannot add to proxy responses.
    shim = {SHIM_FILE.name: SHIM_FILE.read_bytes()} if ctx.api.cors else {}
    bundle = build_bundle(
        settings.path(handler_file), requirements, settings.build_dir, route.runtime, extra_files=shim
    )

    log_group = aws.cloudwatch.LogGroup(
        name,
        name=f"/aws/lambda/{name}",
        retention_in_days=ctx.api.log_retention_days,
    )
    arn = endpoint_arn(ctx.region, ctx.account_id, route.endpoint_name)
    role, policy = iam.lambda_route_role(f"{name}-role", arn, log_group.arn, route.s3_read)
    function = aws.lambda_.Function(
        name,
        runtime=route.runtime,
        handler=SHIM_HANDLER if ctx.api.cors else lambda_handler_setting(route.handler or ""),
        code=pulumi.FileArchive(str(bundle)),
        role=role.arn,
        memory_size=route.memory_mb,
        timeout=max(1, math.ceil(route.timeout_s)),
        environment={"variables": function_environment(ctx, route)},
        logging_config={"log_format": "Text", "log_group": log_group.name},
        opts=pulumi.ResourceOptions(depends_on=[policy, log_group]),
    )
    api_method = method(ctx, name, resource_id, route.method)
    integration = aws.apigateway.Integration(
        name,
        rest_api=ctx.rest_api.id,
        resource_id=resource_id,
        http_method=api_method.http_method,
        type="AWS_PROXY",
        integration_http_method="POST",  # Lambda is always invoked with POST
        uri=function.invoke_arn,
        timeout_milliseconds=ctx.timeout_ms(route.timeout_s),
    )
    permission = aws.lambda_.Permission(
        name,
        action="lambda:InvokeFunction",
        function=function.name,
        principal="apigateway.amazonaws.com",
        # Only this API, this method and path, in any of its stages.
        source_arn=ctx.rest_api.execution_arn.apply(
            lambda execution_arn: f"{execution_arn}/*{execute_api_source_path(route.method, route.path)}"
        ),
    )
    return [log_group, function, api_method, integration, permission]
