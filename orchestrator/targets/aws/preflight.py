"""Checks before anything is spent: settings present, instance types real, account reachable.

Local checks come first (they cost nothing and catch typos); then three read
calls: whose credentials these are, whether the role exists, whether the bucket
does.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ...spec.instance_types import hosting_types, training_types
from ...spec.models import EndpointStep, Pipeline, TrainingStep
from ..base import Reporter, StepFailed, TargetError
from .client import AwsCallFailed

if TYPE_CHECKING:
    from .client import AwsClient

SAGEMAKER_KINDS = {"training", "endpoint"}

# Everything the aws target calls for training and endpoints, for a least-privilege policy.
# iam:PassRole is on aws.role_arn only; sagemaker:AddTags because resources are tagged at creation.
REQUIRED_ACTIONS = (
    "sts:GetCallerIdentity",
    "iam:GetRole",
    "iam:PassRole",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "sagemaker:AddTags",
    "sagemaker:ListTags",
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:ListTrainingJobs",
    "sagemaker:StopTrainingJob",
    "sagemaker:CreateModel",
    "sagemaker:DescribeModel",
    "sagemaker:ListModels",
    "sagemaker:DeleteModel",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:ListEndpointConfigs",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:DescribeEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:DeleteEndpoint",
)


def _suggest(value: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    return f" Did you mean {close[0]}?" if close else ""


def settings_problems(pipeline: Pipeline, kinds: set[str]) -> list[tuple[str, str]]:
    """(message, hint) for each missing setting or invalid instance type; no AWS calls."""
    problems: list[tuple[str, str]] = []
    if not kinds & SAGEMAKER_KINDS:
        return problems
    if not pipeline.aws.role_arn:
        problems.append(
            (
                "aws.role_arn is not set in the spec.",
                "Set aws.role_arn to a SageMaker execution role ARN (it may be ${env:...}).",
            )
        )
    elif not pipeline.aws.role_arn.startswith("arn:aws") or ":role/" not in pipeline.aws.role_arn:
        problems.append(
            (
                f"aws.role_arn {pipeline.aws.role_arn!r} is not an IAM role ARN.",
                "It looks like arn:aws:iam::<account>:role/<name>.",
            )
        )
    if not pipeline.aws.bucket:
        problems.append(
            ("aws.bucket is not set in the spec.", "Set aws.bucket to an S3 bucket for inputs, code and models.")
        )
    for name, step in pipeline.steps.items():
        if isinstance(step, TrainingStep) and "training" in kinds and step.instance.type not in training_types():
            problems.append(
                (
                    f"steps.{name}.instance.type {step.instance.type} cannot run training jobs.",
                    _suggest(step.instance.type, training_types()).strip(),
                )
            )
        if (
            isinstance(step, EndpointStep)
            and "endpoint" in kinds
            and step.instance
            and step.instance.type not in hosting_types()
        ):
            problems.append(
                (
                    f"steps.{name}.instance.type {step.instance.type} cannot host endpoints.",
                    _suggest(step.instance.type, hosting_types()).strip(),
                )
            )
    return problems


def check_account(client: AwsClient, pipeline: Pipeline, reporter: Reporter) -> str:
    """Credentials resolve, the role and bucket exist; returns the account id."""
    try:
        identity = client.caller_identity()
    except AwsCallFailed as exc:
        raise TargetError(f"AWS credentials could not be used: {exc}", exc.detail or None) from exc
    account = identity.get("Account", "?")
    role_arn, bucket = pipeline.aws.role_arn or "", pipeline.aws.bucket or ""
    role_name = role_arn.rsplit("/", 1)[-1]
    try:
        client.get_role(role_name)
    except AwsCallFailed as exc:
        if exc.code == "NoSuchEntity":
            raise TargetError(
                f"The role in aws.role_arn ({role_name}) does not exist in account {account}.",
                "Create a SageMaker execution role, or fix aws.role_arn.",
            ) from exc
        if exc.code in ("AccessDenied", "AccessDeniedException"):
            reporter.warn(f"Could not check that role {role_name} exists (no iam:GetRole); continuing.")
        else:
            raise TargetError(str(exc), exc.detail or None) from exc
    try:
        client.head_bucket(bucket)
    except AwsCallFailed as exc:
        if exc.code in ("404", "NoSuchBucket"):
            raise TargetError(
                f"The bucket in aws.bucket ({bucket}) does not exist.",
                f"Create it in {pipeline.region} (aws s3 mb s3://{bucket}), or fix aws.bucket.",
            ) from exc
        if exc.code in ("403", "AccessDenied"):
            raise TargetError(
                f"The AWS identity in use may not read the bucket in aws.bucket ({bucket}).",
                "Allow s3:ListBucket, s3:GetObject and s3:PutObject on it.",
            ) from exc
        raise TargetError(str(exc), exc.detail or None) from exc
    return account


def preflight(client: AwsClient, pipeline: Pipeline, kinds: set[str], reporter: Reporter) -> None:
    problems = settings_problems(pipeline, kinds)
    if problems:
        message = problems[0][0] if len(problems) == 1 else "\n".join(p for p, _ in problems)
        hint = "; ".join(h for _, h in problems if h) or None
        raise TargetError(message, hint)
    if kinds & SAGEMAKER_KINDS:
        try:
            check_account(client, pipeline, reporter)
        except StepFailed as exc:  # anything else the wrapper translated
            raise TargetError(str(exc), exc.detail or None) from exc
