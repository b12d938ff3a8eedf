"""Endpoints: create, zero-downtime update through a new config, failed updates, tagged destroy."""

from __future__ import annotations

import pytest

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.aws.endpoint import config_request, model_resource_name
from orchestrator.targets.base import Previous, StepFailed

from .aws_support import BUCKET, UpdatingEndpoints, assert_accepted, make_ctx, make_pipeline, new_client

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/reviews:1"
MODEL_A = f"s3://{BUCKET}/models/a/model.tar.gz"
MODEL_B = f"s3://{BUCKET}/models/b/model.tar.gz"
# the model and its config are named from the step's fingerprint and the artifact it serves
CONFIG_A = model_resource_name("movie-reviews", "deploy", "a" * 64, MODEL_A)
CONFIG_B = model_resource_name("movie-reviews", "deploy", "b" * 64, MODEL_B)


def _pipeline(account, **deploy):
    step = {"type": "endpoint", "model": MODEL_A, "image": IMAGE, "instance": {"type": "ml.t2.medium"}, **deploy}
    return make_pipeline({"deploy": step}, **account)


def _deploy(target, pipeline, project, fingerprint, model=MODEL_A):
    step = pipeline.steps["deploy"].model_copy(update={"model": model})
    return target.apply("endpoint", step, make_ctx(pipeline, "deploy", project, fingerprint=fingerprint))


def _target(pipeline, project, client):
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=client)
    target.poll_interval_s = 0
    return target


def test_a_new_model_goes_live_through_update_endpoint(account, project, boto):
    """moto does not implement UpdateEndpoint (HTTP 500), so a small fake of the wrapper answers it."""
    pipeline = _pipeline(account)
    client = new_client(UpdatingEndpoints)
    target = _target(pipeline, project, client)
    first = _deploy(target, pipeline, project, "a" * 64)
    second = _deploy(target, pipeline, project, "b" * 64, MODEL_B)
    assert second.message == f"endpoint movie-reviews-deploy updated with config {CONFIG_B}"
    assert second.details["previous_config"] == first.details["endpoint_config"]
    assert client.updates == {"movie-reviews-deploy": CONFIG_B}
    assert client.calls[("UpdateEndpoint", "write")] == 1
    assert ("CreateEndpoint", "write") in client.calls and client.calls[("CreateEndpoint", "write")] == 1
    assert second.outputs["model"] == MODEL_B
    configs = [c["EndpointConfigName"] for c in boto["sagemaker"].list_endpoint_configs()["EndpointConfigs"]]
    assert sorted(configs) == sorted([CONFIG_A, CONFIG_B])


def test_a_failed_update_reports_the_reason_and_keeps_the_old_config(account, project):
    """moto lacks UpdateEndpoint; the fake reports the rollback the way SageMaker's DescribeEndpoint does."""
    pipeline = _pipeline(account)
    client = new_client(
        UpdatingEndpoints,
        fail_reason="The primary container for production variant AllTraffic did not pass the ping health check.",
    )
    target = _target(pipeline, project, client)
    _deploy(target, pipeline, project, "a" * 64)
    with pytest.raises(StepFailed) as failed:
        _deploy(target, pipeline, project, "b" * 64, MODEL_B)
    assert str(failed.value) == (
        f"Updating endpoint movie-reviews-deploy failed; the previous config {CONFIG_A} stays live."
    )
    assert failed.value.detail.startswith("The primary container for production variant AllTraffic did not pass")


class _FailedEndpoint(UpdatingEndpoints):
    def _invoke(self, service, operation, params):
        result = super()._invoke(service, operation, params)
        if operation == "DescribeEndpoint":
            result = {**result, "EndpointStatus": "Failed", "FailureReason": "Image pull failed."}
        return result


def test_an_endpoint_that_fails_to_create(account, project):
    pipeline = _pipeline(account)
    target = _target(pipeline, project, new_client(_FailedEndpoint))
    with pytest.raises(StepFailed) as failed:
        _deploy(target, pipeline, project, "a" * 64)
    assert str(failed.value) == f"Endpoint movie-reviews-deploy is Failed after deploying {CONFIG_A}."
    assert failed.value.detail == "Image pull failed."
    with pytest.raises(StepFailed, match=r"^Endpoint movie-reviews-deploy is in state Failed and cannot be updated.$"):
        _deploy(target, pipeline, project, "b" * 64, MODEL_B)


def test_a_serverless_endpoint(account, project, boto):
    pipeline = _pipeline(account, instance=None, serverless={"memory_mb": 3072, "max_concurrency": 4})
    _deploy(_target(pipeline, project, new_client()), pipeline, project, "a" * 64)
    config = boto["sagemaker"].describe_endpoint_config(EndpointConfigName=CONFIG_A)
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 4}
    assert "InstanceType" not in config["ProductionVariants"][0]
    assert not config.get("DataCaptureConfig")  # moto answers {} for none


def test_data_capture_on_an_instance_endpoint(account, project, boto):
    """Data capture is a real-time endpoint's feature (serverless ones refuse it; `validate` says so)."""
    pipeline = _pipeline(account, data_capture={"s3_uri": f"s3://{BUCKET}/capture/", "sampling_percent": 20})
    _deploy(_target(pipeline, project, new_client()), pipeline, project, "a" * 64)
    request = config_request(pipeline.steps["deploy"], "c", "m", [])
    assert request["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 20,
        "DestinationS3Uri": f"s3://{BUCKET}/capture/",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    assert_accepted("sagemaker", "CreateEndpointConfig", request)
    config = boto["sagemaker"].describe_endpoint_config(EndpointConfigName=CONFIG_A)
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{BUCKET}/capture/"


def test_inference_handler_is_shipped_with_the_model(account, project, boto):
    pipeline = _pipeline(
        account, image=None, framework="sklearn", inference="models/inference.py", environment={"A": "1"}
    )
    _deploy(_target(pipeline, project, new_client()), pipeline, project, "a" * 64)
    container = boto["sagemaker"].describe_model(ModelName=CONFIG_A)["PrimaryContainer"]
    assert container["Image"].endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3")
    assert container["ModelDataUrl"] == MODEL_A
    env = container["Environment"]
    assert env["A"] == "1" and env["SAGEMAKER_PROGRAM"] == "inference.py" and env["SAGEMAKER_REGION"] == "us-east-1"
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"].endswith("/sourcedir.tar.gz")


def test_an_unknown_model_needs_an_image(account, project):
    pipeline = _pipeline(account, image=None)
    with pytest.raises(StepFailed, match=r"^Endpoint step deploy needs `image:` or `framework:`.$"):
        _deploy(_target(pipeline, project, new_client()), pipeline, project, "a" * 64)


def test_destroy_removes_only_what_this_pipeline_tagged(account, project, boto):
    sm = boto["sagemaker"]
    pipeline = _pipeline(account)
    target = _target(pipeline, project, new_client(UpdatingEndpoints))
    _deploy(target, pipeline, project, "a" * 64)
    deployed = _deploy(target, pipeline, project, "b" * 64, MODEL_B)
    # Someone else's resources that share the name prefix, untagged or tagged for another step.
    sm.create_model(
        ModelName="movie-reviews-deploy-handmade",
        PrimaryContainer={"Image": IMAGE},
        ExecutionRoleArn=account["role_arn"],
    )
    sm.create_endpoint_config(
        EndpointConfigName="movie-reviews-deploy-other",
        ProductionVariants=[
            {
                "VariantName": "v",
                "ModelName": "movie-reviews-deploy-handmade",
                "InstanceType": "ml.t2.medium",
                "InitialInstanceCount": 1,
            }
        ],
        Tags=[
            {"Key": "orchestrator:pipeline", "Value": "movie-reviews"},
            {"Key": "orchestrator:step", "Value": "other"},
        ],
    )
    previous = Previous("b" * 64, deployed.outputs, {}, deployed.details, run_id=2)
    said = target.destroy("endpoint", make_ctx(pipeline, "deploy", project, fingerprint="b" * 64, previous=previous))
    assert said == "Deleted endpoint movie-reviews-deploy, 2 endpoint configs, 2 models."
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["movie-reviews-deploy-handmade"]
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == [
        "movie-reviews-deploy-other"
    ]
    again = target.destroy("endpoint", make_ctx(pipeline, "deploy", project, fingerprint="b" * 64, previous=previous))
    assert again == "Nothing of step deploy was left to delete."


def test_destroy_leaves_an_endpoint_it_does_not_own(account, project, boto):
    sm = boto["sagemaker"]
    sm.create_model(ModelName="theirs", PrimaryContainer={"Image": IMAGE}, ExecutionRoleArn=account["role_arn"])
    sm.create_endpoint_config(
        EndpointConfigName="theirs",
        ProductionVariants=[
            {"VariantName": "v", "ModelName": "theirs", "InstanceType": "ml.t2.medium", "InitialInstanceCount": 1}
        ],
    )
    sm.create_endpoint(EndpointName="movie-reviews-deploy", EndpointConfigName="theirs")
    pipeline = _pipeline(account)
    said = _target(pipeline, project, new_client()).destroy(
        "endpoint", make_ctx(pipeline, "deploy", project, fingerprint="a" * 64)
    )
    assert said == (
        "Nothing of step deploy was left to delete. "
        "Left alone: endpoint movie-reviews-deploy (not tagged as this pipeline's)."
    )
    assert sm.describe_endpoint(EndpointName="movie-reviews-deploy")["EndpointStatus"] == "InService"


def test_deploy_does_not_take_over_an_endpoint_it_does_not_own(account, project, boto):
    sm = boto["sagemaker"]
    sm.create_model(ModelName="theirs", PrimaryContainer={"Image": IMAGE}, ExecutionRoleArn=account["role_arn"])
    sm.create_endpoint_config(
        EndpointConfigName="theirs",
        ProductionVariants=[
            {"VariantName": "v", "ModelName": "theirs", "InstanceType": "ml.t2.medium", "InitialInstanceCount": 1}
        ],
    )
    sm.create_endpoint(EndpointName="movie-reviews-deploy", EndpointConfigName="theirs")
    pipeline = _pipeline(account)
    client = new_client(UpdatingEndpoints)
    with pytest.raises(StepFailed) as failed:
        _deploy(_target(pipeline, project, client), pipeline, project, "a" * 64)
    assert str(failed.value) == (
        "Endpoint movie-reviews-deploy exists but was not created by step deploy of this pipeline; it was left as it is."
    )
    assert failed.value.detail == "Give the step another endpoint_name, or delete that endpoint first."
    assert client.updates == {}


def test_a_rollback_to_an_earlier_model_gets_its_own_config(account, project):
    """Same step fingerprint, another artifact (a rollback, a forced retrain): the endpoint must switch."""
    pipeline = _pipeline(account)
    client = new_client(UpdatingEndpoints)
    target = _target(pipeline, project, client)
    _deploy(target, pipeline, project, "a" * 64, MODEL_A)
    _deploy(target, pipeline, project, "a" * 64, MODEL_B)
    back = _deploy(target, pipeline, project, "a" * 64, MODEL_A)
    assert back.details["action"] == "updated"
    assert client.updates == {"movie-reviews-deploy": CONFIG_A}
    assert back.outputs["model"] == MODEL_A


def test_urls_and_role_arns_follow_the_regions_partition():
    """China's endpoints end in .amazonaws.com.cn, and an arn:aws: role names nothing there."""
    from orchestrator.spec.models import AwsSettings
    from orchestrator.targets.aws.checks import settings_problems
    from orchestrator.targets.aws.endpoint import invocation_url

    assert (
        invocation_url("cn-north-1", "ep")
        == "https://runtime.sagemaker.cn-north-1.amazonaws.com.cn/endpoints/ep/invocations"
    )
    assert (
        invocation_url("eu-west-1", "ep")
        == "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/ep/invocations"
    )
    wrong = AwsSettings(role_arn="arn:aws:iam::123456789012:role/r", bucket="b")
    [problem] = settings_problems(wrong, "cn-north-1")
    assert problem.message == "'arn:aws:iam::123456789012:role/r' is a role of partition aws; cn-north-1 is in aws-cn"
    assert problem.hint == "arn:aws-cn:iam::ACCOUNT:role/NAME"
    assert (
        settings_problems(AwsSettings(role_arn="arn:aws-cn:iam::123456789012:role/r", bucket="b"), "cn-north-1") == []
    )
