"""Checks before anything is spent: settings present, instance types real, account reachable.

Local checks come first (they cost nothing and catch typos): the settings
(`checks.py`) and what each SageMaker step handler finds wrong with its steps;
then three read calls: whose credentials these are, whether the role exists,
whether the bucket does and is in the pipeline's Region (HeadBucket's BucketRegion).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ...spec.models import Pipeline
from ..base import Reporter, StepFailed, TargetError
from .checks import settings_problems
from .client import AwsCallFailed

if TYPE_CHECKING:
    from .client import AwsClient

Problem = tuple[str, str]  # (message, hint)


class StepChecks(Protocol):
    def problems(self, name: str, step: Any) -> list[Problem]:
        """What SageMaker would refuse in this step, found without calling AWS."""


# Everything the aws target calls for training and endpoints, for a least-privilege policy.
# iam:PassRole is on aws.role_arn only; sagemaker:AddTags because resources are tagged at creation.
REQUIRED_ACTIONS = (
    "sts:GetCallerIdentity",
    "iam:GetRole",
    "iam:PassRole",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:GetAccountPublicAccessBlock",
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
    return f"Did you mean {close[0]}?" if close else ""


def instance_type_problems(name: str, instance_type: str, known: frozenset[str], use: str) -> list[Problem]:
    """An instance type SageMaker does not offer for this use, with the closest one it does."""
    if instance_type in known:
        return []
    return [(f"steps.{name}.instance.type {instance_type} cannot {use}.", _suggest(instance_type, known))]


def local_problems(pipeline: Pipeline, handlers: Mapping[str, StepChecks]) -> list[Problem]:
    """The settings' problems, then each step's (of the kinds in `handlers`), in spec order; no AWS calls."""
    problems = [(problem.message, problem.hint) for problem in settings_problems(pipeline.aws, pipeline.region)]
    for name, step in pipeline.steps.items():
        if step.type in handlers:
            problems += handlers[step.type].problems(name, step)
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
        bucket_region = client.head_bucket(bucket).get("BucketRegion")
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
    if bucket_region and bucket_region != pipeline.region:
        raise TargetError(
            f"The bucket in aws.bucket ({bucket}) is in {bucket_region}; SageMaker in {pipeline.region} "
            "reads and writes buckets of its own Region only.",
            f"Use a bucket in {pipeline.region} (aws s3 mb s3://NAME --region {pipeline.region}), "
            f"or set region: {bucket_region}.",
        )
    return account


def preflight(client: AwsClient, pipeline: Pipeline, handlers: Mapping[str, StepChecks], reporter: Reporter) -> None:
    """Every local problem at once; when there are none, the account (three reads)."""
    problems = local_problems(pipeline, handlers)
    if problems:
        message = problems[0][0] if len(problems) == 1 else "\n".join(p for p, _ in problems)
        hint = "; ".join(h for _, h in problems if h) or None
        raise TargetError(message, hint)
    try:
        check_account(client, pipeline, reporter)
    except StepFailed as exc:  # anything else the wrapper translated
        raise TargetError(str(exc), exc.detail or None) from exc
