"""The whole train -> deploy -> destroy flow through AwsTarget, over HTTP against moto."""

from __future__ import annotations

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.aws.endpoint import model_resource_name
from orchestrator.targets.base import Previous

from .aws_support import BUCKET, Recorder, make_ctx, make_pipeline, new_client

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/reviews:1"


def _steps() -> dict:
    return {
        "train": {
            "type": "training",
            "image": IMAGE,
            "inputs": {"train": "data/reviews.csv"},
            "hyperparameters": {"C": 2.0},
            "metrics": [{"name": "accuracy", "regex": "accuracy=([0-9.]+)"}],
            "tags": {"team": "ml"},
        },
        "deploy": {
            "type": "endpoint",
            "model": "${steps.train.outputs.model}",
            "instance": {"type": "ml.t2.medium"},
        },
    }


def test_train_deploy_destroy(account, project, boto):
    pipeline = make_pipeline(_steps(), **account)
    client = new_client()
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=client)
    target.poll_interval_s = 0
    target.preflight({"training", "endpoint"})

    reporter = Recorder()
    trained = target.apply(
        "training",
        pipeline.steps["train"],
        make_ctx(pipeline, "train", project, fingerprint="a" * 64, reporter=reporter),
    )
    job = trained.outputs["job_name"]
    assert job == "movie-reviews-train-" + job.rsplit("-", 1)[1]
    assert trained.outputs["model"] == f"s3://{BUCKET}/orchestrator/models/train/{job}/output/model.tar.gz"
    assert "data" not in trained.outputs  # the script wrote nothing to SM_OUTPUT_DATA_DIR
    assert reporter.of("status") == ["Completed / Completed"]
    assert reporter.of("info") == [f"Started training job {job}."]
    assert trained.details["reattached"] is False
    # input listing, job list, describe, output-data listing and archive lookup; upload, create
    assert trained.details["aws_calls"] == {"read": 5, "write": 2}
    tags = {t["Key"]: t["Value"] for t in boto["sagemaker"].list_tags(ResourceArn=trained.details["job_arn"])["Tags"]}
    assert tags == {"team": "ml", "orchestrator:pipeline": "movie-reviews", "orchestrator:step": "train"}

    deploy_step = pipeline.steps["deploy"].model_copy(update={"model": trained.outputs["model"]})
    deployed = target.apply(
        "endpoint",
        deploy_step,
        make_ctx(pipeline, "deploy", project, fingerprint="b" * 64, upstream={"train": trained.outputs}),
    )
    assert deployed.outputs == {
        "endpoint_name": "movie-reviews-deploy",
        "url": "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/movie-reviews-deploy/invocations",
        "model": trained.outputs["model"],
    }
    config_name = model_resource_name("movie-reviews", "deploy", "b" * 64, trained.outputs["model"])
    assert deployed.message == f"endpoint movie-reviews-deploy created with config {config_name}"
    config = boto["sagemaker"].describe_endpoint_config(EndpointConfigName=config_name)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.t2.medium"
    model = boto["sagemaker"].describe_model(ModelName=config_name)
    assert model["PrimaryContainer"]["Image"] == IMAGE  # served by the image that trained it

    previous = Previous("b" * 64, deployed.outputs, {}, deployed.details, run_id=1)
    said = target.destroy("endpoint", make_ctx(pipeline, "deploy", project, fingerprint="b" * 64, previous=previous))
    assert said == "Deleted endpoint movie-reviews-deploy, 1 endpoint config, 1 model."
    assert boto["sagemaker"].list_endpoints()["Endpoints"] == []
    assert boto["sagemaker"].list_models()["Models"] == []

    train_previous = Previous("a" * 64, trained.outputs, {}, trained.details, run_id=1)
    said = target.destroy(
        "training", make_ctx(pipeline, "train", project, fingerprint="a" * 64, previous=train_previous)
    )
    assert said == (
        f"Training job {job} stays in SageMaker's history (jobs cannot be deleted); "
        f"its model artifact stays at {trained.outputs['model']}."
    )


def test_repeating_the_same_steps_only_reads(account, project):
    """Applying a step again with the same fingerprint finds what exists and writes nothing."""
    pipeline = make_pipeline(_steps(), **account)
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=new_client())
    target.poll_interval_s = 0
    trained = target.apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="a" * 64)
    )
    step = pipeline.steps["deploy"].model_copy(update={"model": trained.outputs["model"]})
    target.apply(
        "endpoint",
        step,
        make_ctx(pipeline, "deploy", project, fingerprint="b" * 64, upstream={"train": trained.outputs}),
    )

    again = AwsTarget(pipeline, project, project / ".orchestrator", client=new_client())
    again.poll_interval_s = 0
    retrained = again.apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="a" * 64)
    )
    redeployed = again.apply(
        "endpoint",
        step,
        make_ctx(pipeline, "deploy", project, fingerprint="b" * 64, upstream={"train": trained.outputs}),
    )
    assert retrained.outputs == trained.outputs
    assert redeployed.details["action"] == "kept"
    assert again.client.counts()["write"] == 0, again.client.calls


def test_probe_stays_offline(account, project):
    """plan calls probe; it must not reach AWS (or import boto3), so it answers "unknown"."""
    pipeline = make_pipeline(_steps(), **account)
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=new_client())
    target.poll_interval_s = 0
    trained = target.apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="a" * 64)
    )
    calls = dict(target.client.calls)
    assert target.probe("training", trained.outputs) is None
    assert target.probe("endpoint", {"endpoint_name": "movie-reviews-deploy"}) is None
    assert dict(target.client.calls) == calls
