"""A `lambda` route: the user's handler as a Lambda function behind an AWS_PROXY integration."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pulumi
import pulumi_aws as aws

from .... import lambda_shim
from ...lambda_deps import LAMBDA_DIRECT_UPLOAD_MAX, megabytes
from . import iam, naming
from .api_context import ApiContext, method
from .cors import lambda_shim_policy
from .lambda_package import Bundle, PackagingError, build_bundle, handler_parts, lambda_handler_setting
from .naming import endpoint_arn, execute_api_source_path, logical_name, partition
from .settings import RouteSettings

SHIM_FILE = Path(lambda_shim.__file__)
SHIM_HANDLER = f"{SHIM_FILE.stem}.handler"


def needs_shim(ctx: ApiContext, route: RouteSettings) -> bool:
    """The wrapper is the function's handler when there are references to resolve or CORS headers to add."""
    return bool(adds_cors(ctx, route) or route.references)


def adds_cors(ctx: ApiContext, route: RouteSettings) -> bool:
    """Only proxy answers get the wrapper's CORS headers: a custom route's answer is the body itself."""
    return bool(ctx.api.cors) and route.proxy


def function_environment(ctx: ApiContext, route: RouteSettings) -> pulumi.Input[dict[str, str]]:
    """What the handler reads: the spec's variables and the endpoint's name (as on the local target).

    The spec's variables come from the secret `orchestrator:apiEnvironment` (then the result is a
    secret Output) and/or the route's plain `environment` (written by hand); references to
    Parameter Store and Secrets Manager stay references, resolved by the function at init.
    """
    fixed = {**({"ENDPOINT_NAME": route.endpoint_name} if route.endpoint_name else {}), **route.references}
    if needs_shim(ctx, route):
        fixed[lambda_shim.HANDLER_VARIABLE] = lambda_handler_setting(route.handler or "")
    if adds_cors(ctx, route):
        fixed[lambda_shim.POLICY_VARIABLE] = json.dumps(lambda_shim_policy(ctx.api.cors), sort_keys=True)
    secrets = ctx.settings.route_environments
    if secrets is None:
        return {**route.environment, **fixed}
    return secrets.apply(lambda by_route: {**route.environment, **(by_route.get(route.key) or {}), **fixed})


def reference_statements(ctx: ApiContext, route: RouteSettings) -> list[dict]:
    """Read access to exactly the parameters and secrets the route's references name."""
    region, account, arn_partition = ctx.region, ctx.account_id, partition(ctx.region)
    parameters, secrets = [], []
    for reference in route.references.values():
        match = lambda_shim.REFERENCE.match(reference)
        if not match:
            continue
        service, name = match.groups()
        if service == "ssm":
            path = name if name.startswith("/") else "/" + name
            parameters.append(f"arn:{arn_partition}:ssm:{region}:{account}:parameter{path}")
        else:
            secret = name.partition(":SecretString:")[0]
            # A secret's ARN ends in "-" and 6 random characters; a name matches them with "-??????".
            secrets.append(
                secret
                if secret.startswith("arn:")
                else f"arn:{arn_partition}:secretsmanager:{region}:{account}:secret:{secret}-??????"
            )
    statements = []
    if parameters:
        statements.append(
            {
                "Sid": "ReadNamedParameters",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": sorted(set(parameters)),
            }
        )
    if secrets:
        statements.append(
            {
                "Sid": "ReadNamedSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": sorted(set(secrets)),
            }
        )
    return statements


def function_code(ctx: ApiContext, name: str, bundle: Bundle) -> dict[str, pulumi.Input]:
    """The bundle in the request (up to 50 MB zipped), or through the artifact bucket (larger)."""
    if bundle.zipped <= LAMBDA_DIRECT_UPLOAD_MAX:
        return {"code": pulumi.FileArchive(str(bundle.path))}
    settings = ctx.settings
    if not settings.artifact_bucket:
        raise PackagingError(
            f"the bundle of {name} is {megabytes(bundle.zipped)} zipped: Lambda takes up to "
            f"{megabytes(LAMBDA_DIRECT_UPLOAD_MAX)} in the request, larger ones from S3; "
            "set orchestrator:artifactBucket (the spec's aws.bucket) to upload it there"
        )
    key = f"{settings.artifact_prefix.strip('/')}/lambda/sha256/{bundle.sha256}/bundle.zip"  # content-addressed
    uploaded = aws.s3.BucketObjectv2(
        logical_name(name, "bundle"),
        bucket=settings.artifact_bucket,
        key=key,
        source=pulumi.FileAsset(str(bundle.path)),
    )
    return {"s3_bucket": uploaded.bucket, "s3_key": uploaded.key, "source_code_hash": bundle.source_code_hash}


def add_lambda_route(ctx: ApiContext, route: RouteSettings, resource_id: pulumi.Input[str]) -> list[pulumi.Resource]:
    settings = ctx.settings
    name = logical_name(settings.pipeline, ctx.api.stage, route.key, limit=naming.FUNCTION)
    handler_file, _ = handler_parts(route.handler or "")
    requirements = settings.path(route.requirements) if route.requirements else None
    shim = {SHIM_FILE.name: SHIM_FILE} if needs_shim(ctx, route) else {}
    bundle = build_bundle(
        settings.project_dir,
        settings.path(handler_file),
        requirements,
        settings.build_dir,
        route.runtime,
        private=settings.never_shipped,
        extra_files=shim,
    )

    log_group = aws.cloudwatch.LogGroup(
        name,
        name=f"/aws/lambda/{name}",
        retention_in_days=ctx.api.log_retention_days,
        tags=settings.tags,
    )
    arn = endpoint_arn(ctx.region, ctx.account_id, route.endpoint_name) if route.endpoint_name else None
    role, policy = iam.lambda_route_role(
        logical_name(settings.pipeline, ctx.api.stage, route.key, "role", limit=naming.ROLE),
        arn,
        log_group.arn,
        settings,
        route.s3_read,
        reference_statements(ctx, route),
    )
    function = aws.lambda_.Function(
        name,
        runtime=route.runtime,
        handler=SHIM_HANDLER if shim else lambda_handler_setting(route.handler or ""),
        role=role.arn,
        memory_size=route.memory_mb,
        timeout=max(1, math.ceil(route.timeout_s)),
        environment={"variables": function_environment(ctx, route)},
        logging_config={"log_format": "Text", "log_group": log_group.name},
        tags=settings.tags,
        opts=pulumi.ResourceOptions(depends_on=[policy, log_group]),
        **function_code(ctx, name, bundle),
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
