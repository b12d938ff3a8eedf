"""Preflight: every message a user gets before anything is spent."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.base import TargetError

from .aws_support import (
    BUCKET,
    Recorder,
    ScriptedErrors,
    client_error,
    make_pipeline,
    new_client,
)

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/reviews:1"


def _steps(train_type="ml.m5.large", host_type="ml.t2.medium"):
    return {
        "train": {"type": "training", "image": IMAGE, "instance": {"type": train_type}},
        "deploy": {
            "type": "endpoint",
            "model": "${steps.train.outputs.model}",
            "image": IMAGE,
            "instance": {"type": host_type},
        },
    }


def _preflight(pipeline, project, client=None, kinds=("training", "endpoint"), reporter=None):
    AwsTarget(pipeline, project, project / ".orchestrator", reporter, client=client or new_client()).preflight(
        set(kinds)
    )


def test_passes_with_role_bucket_and_credentials(account, project):
    client = new_client()
    _preflight(make_pipeline(_steps(), **account), project, client)
    assert client.by_operation() == {"GetCallerIdentity": 1, "GetRole": 1, "HeadBucket": 1}
    assert client.counts()["write"] == 0


def test_role_arn_missing(account, project):
    with pytest.raises(TargetError) as raised:
        _preflight(make_pipeline(_steps(), role_arn=None, bucket=BUCKET), project)
    assert str(raised.value) == "aws.role_arn is not set in the spec."
    assert raised.value.hint == "Set aws.role_arn to a SageMaker execution role ARN (it may be ${env:...})."


def test_bucket_missing(account, project):
    with pytest.raises(TargetError) as raised:
        _preflight(make_pipeline(_steps(), role_arn=account["role_arn"], bucket=None), project)
    assert str(raised.value) == "aws.bucket is not set in the spec."
    assert raised.value.hint == "Set aws.bucket to an S3 bucket for inputs, code and models."


def test_all_local_problems_are_reported_together_without_calling_aws(aws_env, project):
    client = new_client()
    with pytest.raises(TargetError) as raised:
        _preflight(
            make_pipeline(_steps("ml.t2.medium", "ml.m5.larg"), role_arn="my-role", bucket=None), project, client
        )
    assert str(raised.value).splitlines() == [
        "aws.role_arn 'my-role' is not an IAM role ARN.",
        "aws.bucket is not set in the spec.",
        "steps.train.instance.type ml.t2.medium cannot run training jobs.",
        "steps.deploy.instance.type ml.m5.larg cannot host endpoints.",
    ]
    assert "Did you mean ml.m5.large?" in raised.value.hint
    assert client.calls == {}


def test_role_that_does_not_exist(account, project):
    pipeline = make_pipeline(_steps(), role_arn="arn:aws:iam::123456789012:role/missing", bucket=BUCKET)
    with pytest.raises(TargetError) as raised:
        _preflight(pipeline, project)
    assert str(raised.value) == "The role in aws.role_arn (missing) does not exist in account 123456789012."
    assert raised.value.hint == "Create a SageMaker execution role, or fix aws.role_arn."


def test_bucket_that_does_not_exist(account, project):
    pipeline = make_pipeline(_steps(), role_arn=account["role_arn"], bucket="not-there-bucket")
    with pytest.raises(TargetError) as raised:
        _preflight(pipeline, project)
    assert str(raised.value) == "The bucket in aws.bucket (not-there-bucket) does not exist."
    assert raised.value.hint == "Create it in us-east-1 (aws s3 mb s3://not-there-bucket), or fix aws.bucket."


def test_bucket_not_readable(account, project):
    client = new_client(ScriptedErrors, errors={"HeadBucket": [client_error("HeadBucket", "403", "Forbidden", 403)]})
    with pytest.raises(TargetError) as raised:
        _preflight(make_pipeline(_steps(), **account), project, client)
    assert str(raised.value) == f"The AWS identity in use may not read the bucket in aws.bucket ({BUCKET})."
    assert raised.value.hint == "Allow s3:ListBucket, s3:GetObject and s3:PutObject on it."


def test_role_check_without_iam_permission_only_warns(account, project):
    client = new_client(ScriptedErrors, errors={"GetRole": [client_error("GetRole", "AccessDenied", "no", 403)]})
    reporter = Recorder()
    _preflight(make_pipeline(_steps(), **account), project, client, reporter=reporter)
    assert reporter.of("warn") == [
        "Could not check that role orchestrator-sagemaker exists (no iam:GetRole); continuing."
    ]


def test_no_credentials(account, project, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(TargetError, match=r"^No AWS credentials found for the aws target.$"):
        _preflight(make_pipeline(_steps(), **account), project)


class FakeWebLayer:
    """Stands in for the Pulumi hand-off (built separately) to check the delegation."""

    def __init__(self):
        self.calls: list[str] = []

    def preflight(self):
        self.calls.append("preflight")

    def apply_api(self, step_name, step, ctx):
        self.calls.append(f"api:{step_name}")

    def apply_website(self, step_name, step, ctx):
        self.calls.append(f"website:{step_name}")

    def destroy(self, kind, ctx):
        self.calls.append(f"destroy:{kind}")
        return "Removed the stack."


def test_web_steps_go_to_the_pulumi_hand_off(account, project):
    target = AwsTarget(make_pipeline(_steps(), **account), project, project / ".orchestrator", client=new_client())
    target._web = FakeWebLayer()
    target.preflight({"training", "api"})
    target.provision_api(None, _ctx_named("api"))
    target.publish_website(None, _ctx_named("site"))
    assert target.destroy("website", _ctx_named("site")) == "Removed the stack."
    assert target._web.calls == ["preflight", "api:api", "website:site", "destroy:website"]
    client = new_client()
    AwsTarget(make_pipeline(_steps(), **account), project, project / ".orchestrator", client=client).preflight(
        {"training"}
    )
    assert client.counts()["total"] == 3  # the web layer is not consulted without api/website steps


def _ctx_named(step: str) -> SimpleNamespace:
    """Only the step name is read on the way to the web layer."""
    return SimpleNamespace(step=step)
