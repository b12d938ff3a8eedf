"""Preflight: every message a user gets before anything is spent."""

from __future__ import annotations

import pytest

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.base import Previous, TargetError

from ..pulumi.fake_pulumi import FakeCloud
from .aws_support import (
    BUCKET,
    Recorder,
    ScriptedErrors,
    StrictClient,
    client_error,
    make_ctx,
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
    assert client.calls == {("GetCallerIdentity", "read"): 1, ("GetRole", "read"): 1, ("HeadBucket", "read"): 1}


def test_role_arn_missing(account, project):
    with pytest.raises(TargetError) as raised:
        _preflight(make_pipeline(_steps(), role_arn=None, bucket=BUCKET), project)
    assert str(raised.value) == "target aws needs aws.role_arn"  # as validate says it (checks.py)
    assert raised.value.hint == (
        "e.g. aws: {role_arn: arn:aws:iam::123456789012:role/SageMakerExecution} or role_arn: ${env:...}"
    )


def test_bucket_missing(account, project):
    with pytest.raises(TargetError) as raised:
        _preflight(make_pipeline(_steps(), role_arn=account["role_arn"], bucket=None), project)
    assert str(raised.value) == "target aws needs aws.bucket"
    assert raised.value.hint == "e.g. aws: {bucket: my-ml-artifacts} or bucket: ${env:...}"


def test_all_local_problems_are_reported_together_without_calling_aws(aws_env, project):
    client = new_client()
    with pytest.raises(TargetError) as raised:
        _preflight(
            make_pipeline(_steps("ml.t2.medium", "ml.m5.larg"), role_arn="my-role", bucket=None), project, client
        )
    assert str(raised.value).splitlines() == [
        "target aws needs aws.bucket",
        "'my-role' is not an IAM role ARN",
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


def test_web_steps_go_to_the_pulumi_hand_off(account, project):
    """api and website steps become parts of the pipeline's Pulumi stack (a stand-in for the Automation API)."""
    cloud = FakeCloud()
    pipeline = make_pipeline({**_steps(), **WEB_STEPS}, **account)
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=new_client(), stack_factory=cloud.factory)
    target.preflight({"training", "api"})
    api = target.apply("api", resolved(pipeline, "api"), make_ctx(pipeline, "api", project, fingerprint="a" * 64))
    site = target.apply(
        "website", resolved(pipeline, "site"), make_ctx(pipeline, "site", project, fingerprint="b" * 64)
    )
    assert api.outputs["url"] == "https://fake123.execute-api.us-east-1.amazonaws.com/prod"
    assert site.details["stack"] == api.details["stack"] == "movie-reviews-prod"
    previous = Previous("b" * 64, site.outputs, {}, site.details, run_id=1)
    said = target.destroy("website", make_ctx(pipeline, "site", project, fingerprint="b" * 64, previous=previous))
    assert said == "removed the website from Pulumi stack movie-reviews-prod; the rest of the stack stays"
    assert [name for name, *_ in cloud.opened] == ["movie-reviews-prod"]
    assert cloud.operations == [("up", "movie-reviews-prod")] * 3
    # preflight's account reads (SageMaker's three, API Gateway's settings); the web steps make no boto3 call
    assert target.client.counts()["total"] == 4


def test_without_web_steps_pulumi_is_not_checked(account, project, monkeypatch):
    monkeypatch.setenv("PATH", str(project))  # no Pulumi CLI: its check would fail
    client = new_client()
    target = AwsTarget(
        make_pipeline({**_steps(), **WEB_STEPS}, **account), project, project / ".orchestrator", client=client
    )
    target.preflight({"training"})
    assert client.counts()["total"] == 3
    with pytest.raises(TargetError, match="The Pulumi CLI is not installed"):
        target.preflight({"website"})


WEB_STEPS = {
    "api": {
        "type": "api",
        "routes": [
            {
                "method": "POST",
                "path": "/p",
                "integration": "direct",
                "endpoint": "${steps.deploy.outputs.endpoint_name}",
            }
        ],
    },
    "site": {"type": "website", "source": "web", "config": {"apiUrl": "${steps.api.outputs.url}"}},
}


def resolved(pipeline, name):
    """The step as the executor hands it over: its references resolved."""
    data = pipeline.steps[name].model_dump()
    for route in data.get("routes", []):
        route["endpoint"] = "movie-reviews-deploy"
    if "config" in data:
        data["config"] = {"apiUrl": "https://fake123.execute-api.us-east-1.amazonaws.com/prod"}
    return type(pipeline.steps[name]).model_validate(data)


def test_a_bucket_in_another_region_is_refused_before_anything_is_spent(account, project, boto):
    """HeadBucket says where the bucket is; SageMaker reads and writes buckets of its own Region only."""
    boto["s3"].create_bucket(Bucket="eu-artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    pipeline = make_pipeline(_steps(), role_arn=account["role_arn"], bucket="eu-artifacts")
    with pytest.raises(TargetError) as raised:
        _preflight(pipeline, project)
    assert str(raised.value) == (
        "The bucket in aws.bucket (eu-artifacts) is in eu-west-1; SageMaker in us-east-1 reads and writes "
        "buckets of its own Region only."
    )
    assert raised.value.hint == (
        "Use a bucket in us-east-1 (aws s3 mb s3://NAME --region us-east-1), or set region: eu-west-1."
    )


class AccountBlockPublicAccess(StrictClient):
    """Answers s3control's GetPublicAccessBlock (moto's server cannot be reached by it: the account id is a
    host prefix of the endpoint) as S3 does for an account with these settings, or with none (None)."""

    def __init__(self, *args, settings: dict | None, denied: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.denied = denied

    def _invoke(self, service, operation, params):
        if operation != "GetPublicAccessBlock":
            return super()._invoke(service, operation, params)
        if self.denied:
            raise client_error(operation, "AccessDenied", "Access Denied", 403)
        if self.settings is None:
            raise client_error(operation, "NoSuchPublicAccessBlockConfiguration", "none", 404)
        return {"PublicAccessBlockConfiguration": self.settings}


def _site_target(account, project, client, public=True):
    site = {**WEB_STEPS["site"], "public": public}
    pipeline = make_pipeline({"api": WEB_STEPS["api"], "site": site}, **account)
    (project / "web").mkdir(exist_ok=True)
    return AwsTarget(
        pipeline, project, project / ".orchestrator", Recorder(), client=client, stack_factory=FakeCloud().factory
    )


def test_a_public_site_under_the_accounts_block_public_access_is_refused_before_anything_is_spent(account, project):
    client = new_client(AccountBlockPublicAccess, settings={"BlockPublicPolicy": True, "BlockPublicAcls": True})
    with pytest.raises(TargetError) as raised:
        _site_target(account, project, client).preflight({"api", "website"})
    assert str(raised.value) == (
        "Account 123456789012 has Block Public Access BlockPublicPolicy on, so the public bucket policy of "
        "website site would be refused."
    )
    assert raised.value.hint == (
        "Set steps.site.public: false (and serve the site through CloudFront), or turn BlockPublicPolicy off for "
        "the account (S3 console: Block Public Access settings for this account)."
    )
    assert client.calls == {
        ("GetAccount", "read"): 1,  # the api's: may its stage log access
        ("GetCallerIdentity", "read"): 1,
        ("GetPublicAccessBlock", "read"): 1,
    }


def test_restricted_public_buckets_would_void_the_sites_policy(account, project):
    client = new_client(AccountBlockPublicAccess, settings={"RestrictPublicBuckets": True})
    with pytest.raises(
        TargetError, match=r"RestrictPublicBuckets on, so the public bucket policy of website site would be ignored.$"
    ):
        _site_target(account, project, client).preflight({"website"})


def test_a_site_passes_when_the_account_allows_it_or_is_private(account, project):
    _site_target(account, project, new_client(AccountBlockPublicAccess, settings=None)).preflight({"website"})
    _site_target(account, project, new_client(AccountBlockPublicAccess, settings={"BlockPublicAcls": True})).preflight(
        {"website"}
    )
    private = new_client(AccountBlockPublicAccess, settings={"BlockPublicPolicy": True})
    _site_target(account, project, private, public=False).preflight({"website"})
    assert private.calls == {}  # a private site needs no public policy: nothing to ask


def test_without_permission_to_read_the_setting_preflight_warns_and_goes_on(account, project):
    target = _site_target(account, project, new_client(AccountBlockPublicAccess, settings=None, denied=True))
    target.preflight({"website"})
    assert target.reporter.of("warn") == [
        "Could not read the account's Block Public Access (no s3:GetAccountPublicAccessBlock); continuing."
    ]
