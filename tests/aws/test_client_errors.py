"""Every botocore error the wrapper translates, pinned to the one line the user sees.

Errors moto produces are provoked through moto; the rest (AccessDenied, quotas,
throttling) are real botocore ClientErrors raised by a scripted subclass of the wrapper.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import orchestrator.targets.aws.client as client_module
from orchestrator.targets.aws.client import AwsCallFailed, AwsClient, iam_action, is_read
from orchestrator.targets.aws.preflight import REQUIRED_ACTIONS
from orchestrator.targets.base import TargetError

from .aws_support import REGION, ScriptedErrors, client_error, new_client


def test_no_credentials(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(TargetError) as raised:
        new_client().caller_identity()
    assert str(raised.value) == "No AWS credentials found for the aws target."
    assert raised.value.hint == (
        "Set AWS_PROFILE (or aws.profile in the spec), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`."
    )


def test_unknown_profile(aws_env):
    with pytest.raises(TargetError) as raised:
        AwsClient(REGION, "nightly").caller_identity()
    assert str(raised.value) == "AWS profile 'nightly' (aws.profile in the spec) is not configured on this machine."
    assert raised.value.hint == "Check the name in ~/.aws/config, or remove aws.profile to use the environment."


def test_access_denied_names_the_action(aws_env):
    denied = client_error(
        "CreateTrainingJob", "AccessDeniedException", "User: arn:aws:iam::1:user/ci is not authorized"
    )
    client = new_client(ScriptedErrors, errors={"CreateTrainingJob": [denied]})
    with pytest.raises(AwsCallFailed) as raised:
        client.create_training_job({"TrainingJobName": "x"})
    assert str(raised.value) == "Access denied: the AWS identity in use may not call sagemaker:CreateTrainingJob."
    assert raised.value.detail == (
        "Allow sagemaker:CreateTrainingJob in the policy of the user or role that runs orchestrator. "
        "User: arn:aws:iam::1:user/ci is not authorized"
    )


def test_s3_access_denied_names_the_iam_action_not_the_operation(aws_env):
    client = new_client(
        ScriptedErrors, errors={"ListObjectsV2": [client_error("ListObjectsV2", "AccessDenied", "Access Denied", 403)]}
    )
    with pytest.raises(AwsCallFailed, match=r"^Access denied: the AWS identity in use may not call s3:ListBucket.$"):
        client.list_objects("bucket", "prefix/")


def test_resource_limit(aws_env):
    quota = client_error(
        "CreateEndpoint",
        "ResourceLimitExceeded",
        "The account-level service limit 'ml.g5.xlarge for endpoint usage' is 0 Instances",
    )
    client = new_client(ScriptedErrors, errors={"CreateEndpoint": [quota]})
    with pytest.raises(AwsCallFailed) as raised:
        client.create_endpoint("e", "c", [])
    assert str(raised.value) == (
        "SageMaker quota reached for CreateEndpoint: "
        "The account-level service limit 'ml.g5.xlarge for endpoint usage' is 0 Instances"
    )
    assert (
        raised.value.detail
        == "Request an increase in Service Quotas, use another instance type, or delete unused resources."
    )


def test_validation_exception_names_the_field(aws_env):
    invalid = client_error(
        "CreateTrainingJob",
        "ValidationException",
        "1 validation error detected: Value 'ml.m5.huge' at 'resourceConfig.instanceType' failed to satisfy constraint: "
        "Member must satisfy enum value set",
    )
    client = new_client(ScriptedErrors, errors={"CreateTrainingJob": [invalid]})
    with pytest.raises(AwsCallFailed) as raised:
        client.create_training_job({})
    assert str(raised.value).startswith(
        "CreateTrainingJob rejected the value of resourceConfig.instanceType: 1 validation error"
    )


def test_client_side_validation_names_the_field(account):
    """botocore checks the request against the API model before sending it; moto never sees it."""
    with pytest.raises(AwsCallFailed) as raised:
        new_client().create_endpoint_config({"EndpointConfigName": "c", "ProductionVariants": []})
    assert str(raised.value) == "CreateEndpointConfig was given an invalid value for ProductionVariants."
    assert "valid min length: 1" in raised.value.detail


def test_not_found_from_moto_is_none(account):
    client = new_client()
    assert client.describe_training_job("never-created") is None
    assert client.describe_endpoint("never-created") is None
    assert client.describe_model("never-created") is None
    assert client.describe_endpoint_config("never-created") is None


def test_missing_bucket_from_moto(account):
    with pytest.raises(AwsCallFailed) as raised:
        new_client().head_bucket("no-such-bucket-here")
    assert str(raised.value) == "HeadBucket failed (404): Not Found"
    assert raised.value.code == "404"


def test_throttling_is_retried_with_backoff_and_counted(account):
    throttled = [client_error("ListTrainingJobs", "ThrottlingException", "Rate exceeded") for _ in range(3)]
    client = new_client(ScriptedErrors, errors={"ListTrainingJobs": throttled})
    assert client.list_training_jobs("x") == []
    assert client.slept == [0.5, 1.0, 2.0]
    assert client.calls[("ListTrainingJobs", "read")] == 4


def test_throttling_gives_up(account):
    throttled = [client_error("CreateModel", "ThrottlingException", "Rate exceeded") for _ in range(5)]
    client = new_client(ScriptedErrors, errors={"CreateModel": throttled})
    with pytest.raises(
        AwsCallFailed, match=r"^AWS kept throttling CreateModel after 5 attempts; try again in a few minutes.$"
    ):
        client.create_model({})
    assert client.calls[("CreateModel", "write")] == 5


def test_rejected_credentials(aws_env):
    expired = client_error("GetCallerIdentity", "ExpiredToken", "The security token included in the request is expired")
    client = new_client(ScriptedErrors, errors={"GetCallerIdentity": [expired]})
    with pytest.raises(TargetError) as raised:
        client.caller_identity()
    assert str(raised.value) == "The AWS credentials in use were rejected (ExpiredToken)."
    assert raised.value.hint == "Refresh them (e.g. `aws sso login`) or check AWS_PROFILE."


def test_any_other_error_keeps_code_and_message(aws_env):
    client = new_client(
        ScriptedErrors, errors={"DeleteModel": [client_error("DeleteModel", "ConflictException", "busy")]}
    )
    with pytest.raises(AwsCallFailed, match=r"^DeleteModel failed \(ConflictException\): busy$"):
        client.delete_model("m")


def test_unreachable_endpoint(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(AwsCallFailed, match=r"^Could not reach AWS sts in us-east-1 \(GetCallerIdentity\).$"):
        new_client().caller_identity()


def test_read_and_write_and_iam_names():
    assert is_read("DescribeEndpoint") and is_read("ListTags") and is_read("HeadBucket") and is_read("GetRole")
    assert not is_read("CreateEndpoint") and not is_read("UploadFile") and not is_read("UpdateEndpoint")
    assert iam_action("s3", "HeadObject") == "s3:GetObject"
    assert iam_action("sagemaker", "UpdateEndpoint") == "sagemaker:UpdateEndpoint"


def test_reads_survive_a_server_error_but_writes_are_not_repeated(account):
    busy = client_error("DescribeTrainingJob", "ServiceUnavailable", "Please try again", 503)
    client = new_client(ScriptedErrors, errors={"DescribeTrainingJob": [busy], "CreateModel": [busy]})
    assert client.describe_training_job("never-created") is None
    assert client.calls[("DescribeTrainingJob", "read")] == 2
    with pytest.raises(AwsCallFailed, match=r"^CreateModel failed \(ServiceUnavailable\): Please try again$"):
        client.create_model({})
    assert client.calls[("CreateModel", "write")] == 1


def test_access_denied_prefers_the_action_aws_names(aws_env):
    denied = client_error(
        "CreateTrainingJob",
        "AccessDeniedException",
        "User: arn:aws:iam::1:user/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/sm",
    )
    client = new_client(ScriptedErrors, errors={"CreateTrainingJob": [denied]})
    with pytest.raises(AwsCallFailed, match=r"^Access denied: the AWS identity in use may not call iam:PassRole.$"):
        client.create_training_job({})


def test_every_operation_the_target_calls_is_in_the_documented_policy():
    """The least-privilege list stays in step with the wrapper: each call's IAM action is in it."""
    source = Path(client_module.__file__).read_text()
    called = set(re.findall(r'self\.call\("(\w+)", "(\w+)"', source))
    called |= {("sagemaker", op) for op in re.findall(r'self\._(?:list_all|describe_or_none)\("(\w+)"', source)}
    assert len(called) > 20
    assert {iam_action(service, operation) for service, operation in called} <= set(REQUIRED_ACTIONS)
