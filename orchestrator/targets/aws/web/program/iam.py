"""Least-privilege roles: each grants exactly the actions one integration needs.

No `*` actions and no AWS-managed policies: `sagemaker:InvokeEndpoint` only on
the named endpoints, Lambda logging only into the function's own log group.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from . import naming
from .naming import logical_name, s3_arn
from .settings import Settings


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def invoke_endpoint_statement(endpoint_arns: Sequence[str]) -> dict:
    return {
        "Sid": "InvokeTheEndpoints",
        "Effect": "Allow",
        "Action": "sagemaker:InvokeEndpoint",
        "Resource": sorted(set(endpoint_arns)),
    }


def api_gateway_invoke_role(name: str, endpoint_arns: Sequence[str], settings: Settings) -> aws.iam.Role:
    """The role API Gateway assumes for direct routes: InvokeEndpoint on these endpoints only."""
    role = aws.iam.Role(
        name,
        assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
        description="API Gateway calls the SageMaker runtime for direct routes.",
        tags=settings.tags,
    )
    aws.iam.RolePolicy(
        logical_name(name, "invoke", limit=naming.INLINE_POLICY),
        role=role.id,
        policy=json.dumps({"Version": "2012-10-17", "Statement": [invoke_endpoint_statement(endpoint_arns)]}),
    )
    return role


def s3_object_arns(region: str, uris: Sequence[str]) -> list[str]:
    """s3://bucket/key -> that object's ARN; s3://bucket/prefix/ -> the objects under it."""
    arns = []
    for uri in uris:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        arns.append(s3_arn(region, bucket, f"{key}*" if key.endswith("/") or not key else key))
    return sorted(set(arns))


def lambda_route_role(
    name: str,
    endpoint_arns: Sequence[str],
    log_group_arn: pulumi.Input[str],
    settings: Settings,
    s3_read: Sequence[str] = (),
    extra: Sequence[dict] = (),
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The Lambda's execution role: write its own log group, invoke its endpoint (if it names one),
    read the S3 objects the route names (e.g. a transform saved by training), and
    whatever `extra` statements grant (the parameters and secrets it resolves), nothing else."""
    role = aws.iam.Role(
        name,
        assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
        description="A lambda route: logs to its log group and invokes its endpoint.",
        tags=settings.tags,
    )

    def document(group_arn: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "WriteOwnLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": [group_arn, f"{group_arn}:*"],
                    },
                    *([invoke_endpoint_statement(endpoint_arns)] if endpoint_arns else []),
                    *(
                        [
                            {
                                "Sid": "ReadNamedObjects",
                                "Effect": "Allow",
                                "Action": "s3:GetObject",
                                "Resource": s3_object_arns(settings.region, s3_read),
                            }
                        ]
                        if s3_read
                        else []
                    ),
                    *extra,
                ],
            }
        )

    policy = aws.iam.RolePolicy(
        logical_name(name, "policy", limit=naming.INLINE_POLICY),
        role=role.id,
        policy=pulumi.Output.from_input(log_group_arn).apply(document),
    )
    return role, policy
