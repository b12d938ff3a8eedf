"""A `lambda` route's function: the user's handler packaged as a Lambda, its log group, its role,
and the permission for this API to invoke it. The integration that calls it is in the API document."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pulumi
import pulumi_aws as aws

from .....apidoc import route_key
from .....spec.models import Route
from .....spec.service_checks import REFERENCE
from .... import lambda_shim
from ...lambda_deps import LAMBDA_DIRECT_UPLOAD_MAX, megabytes
from . import iam, naming
from .api_context import ApiContext
from .lambda_package import Bundle, PackagingError, build_bundle, handler_parts, lambda_handler_setting
from .naming import endpoint_arn, execute_api_source_path, logical_name, partition

SHIM_FILE = Path(lambda_shim.__file__)
SHIM_HANDLER = f"{SHIM_FILE.stem}.handler"


def function_name(ctx: ApiContext, route: Route) -> str:
    """The function's logical name, which is also its log group's (`orchestrator logs` reads that one)."""
    return logical_name(ctx.settings.pipeline, ctx.api.stage, route_key(route), limit=naming.FUNCTION)


def references(route: Route) -> dict[str, str]:
    """NAME -> `{{resolve:ssm:...}}` / `{{resolve:secretsmanager:...}}`: read by the function at init."""
    return {name: value for name, value in route.environment.items() if REFERENCE.match(value)}


def adds_cors(ctx: ApiContext, route: Route) -> bool:
    """A proxy answer gets the API's CORS headers from the wrapper; a custom (`proxy: false`) route's
    return value is the response body, so its CORS headers come from the document instead."""
    return bool(ctx.api.step.cors) and route.proxy


def needs_shim(ctx: ApiContext, route: Route) -> bool:
    """The wrapper is the function's handler when there are references to resolve or CORS headers to add."""
    return adds_cors(ctx, route) or bool(references(route)) or not route.proxy


def function_environment(ctx: ApiContext, route: Route) -> pulumi.Input[dict[str, str]]:
    """What the handler reads: the spec's variables and the endpoint's name (as on the local target).

    The spec's variables come from the secret `orchestrator:apiEnvironment` (then the result is a
    secret Output) and/or the route's plain `environment` (written by hand); references to
    Parameter Store and Secrets Manager stay references, resolved by the function at init.
    """
    fixed = {**({"ENDPOINT_NAME": route.endpoint} if route.endpoint else {}), **references(route)}
    if needs_shim(ctx, route):
        fixed[lambda_shim.HANDLER_VARIABLE] = lambda_handler_setting(route.handler or "")
    if not route.proxy:  # errors with no message still reach a status (lambda_shim.error_message)
        fixed[lambda_shim.CUSTOM_VARIABLE] = "1"
    cors = ctx.api.step.cors
    if cors and adds_cors(ctx, route):
        fixed[lambda_shim.POLICY_VARIABLE] = json.dumps(lambda_shim.policy_of(cors), sort_keys=True)
    secrets = ctx.settings.route_environments
    if secrets is None:
        return {**route.environment, **fixed}
    return secrets.apply(lambda by_route: {**route.environment, **(by_route.get(route_key(route)) or {}), **fixed})


def reference_statements(ctx: ApiContext, route: Route) -> list[dict]:
    """Read access to exactly the parameters and secrets the route's references name."""
    region, account, arn_partition = ctx.region, ctx.account_id, partition(ctx.region)
    parameters, secrets = [], []
    for reference in references(route).values():
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


def add_lambda_function(ctx: ApiContext, route: Route) -> aws.lambda_.Function:
    """The function, its log group and its least-privilege role (the document names its ARN)."""
    settings = ctx.settings
    name = function_name(ctx, route)
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
    role, policy = iam.lambda_route_role(
        logical_name(settings.pipeline, ctx.api.stage, route_key(route), "role", limit=naming.ROLE),
        [endpoint_arn(ctx.region, ctx.account_id, route.endpoint)] if route.endpoint else [],
        log_group.arn,
        settings,
        [uri for uri in route.s3_read if uri.startswith("s3://")],  # local paths mean nothing to IAM
        reference_statements(ctx, route),
    )
    return aws.lambda_.Function(
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


def allow_invoke(
    ctx: ApiContext, route: Route, function: aws.lambda_.Function, execution_arn: pulumi.Output[str]
) -> aws.lambda_.Permission:
    """Only this API may invoke the function, and only for this route's method and path, in any stage."""
    return aws.lambda_.Permission(
        function_name(ctx, route),
        action="lambda:InvokeFunction",
        function=function.name,
        principal="apigateway.amazonaws.com",
        source_arn=execution_arn.apply(lambda arn: f"{arn}/*{execute_api_source_path(route.method, route.path)}"),
    )
