"""Batch transform on SageMaker: the model and job we create against moto's server, re-attaching, destroy."""

from __future__ import annotations

import re

import pytest

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.base import Previous, TargetError

from .aws_support import BUCKET, Recorder, make_ctx, make_pipeline, new_client

MODEL = f"s3://{BUCKET}/models/train/job/output/model.tar.gz"


def _pipeline(account, **overrides):
    step = {
        "type": "transform",
        "model": MODEL,
        "framework": "sklearn",
        "framework_version": "1.2-1",
        "inference": "models/inference.py",
        "input": "data/reviews.csv",
        "split_type": "Line",
        "strategy": "MultiRecord",
        "assemble_with": "Line",
        "accept": "text/csv",
        "max_payload_mb": 2,
        "instance": {"type": "ml.m5.xlarge", "count": 2},
        "environment": {"MODE": "batch"},
        **overrides,
    }
    return make_pipeline({"score": step}, **account)


def _target(pipeline, project):
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=new_client())
    target.poll_interval_s = 0
    return target


def test_a_transform_creates_its_model_and_job_with_the_steps_settings(account, project, boto):
    pipeline = _pipeline(account)
    target = _target(pipeline, project)
    result = target.apply(
        "transform", pipeline.steps["score"], make_ctx(pipeline, "score", project, fingerprint="a" * 64)
    )
    name = result.outputs["job_name"]
    job = boto["sagemaker"].describe_transform_job(TransformJobName=name)
    assert job["ModelName"] == result.details["model_name"]
    assert job["BatchStrategy"] == "MultiRecord" and job["MaxPayloadInMB"] == 2
    assert job["Environment"] == {"MODE": "batch"}
    assert job["TransformInput"]["SplitType"] == "Line" and job["TransformInput"]["ContentType"] == "text/csv"
    staged = job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    assert staged.startswith(f"s3://{BUCKET}/") and boto["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] >= 1
    assert job["TransformOutput"] == {
        "S3OutputPath": f"s3://{BUCKET}/orchestrator/transforms/score/{name}/",
        "AssembleWith": "Line",
        "Accept": "text/csv",
    }
    assert job["TransformResources"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2}
    assert result.outputs["data"] == f"s3://{BUCKET}/orchestrator/transforms/score/{name}/"
    model = boto["sagemaker"].describe_model(ModelName=job["ModelName"])
    container = model["PrimaryContainer"]
    assert container["ModelDataUrl"] == MODEL and "sagemaker-scikit-learn" in container["Image"]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"

    # the same step again: the finished job is found, nothing new is created or paid for
    again = _target(pipeline, project)
    reporter = Recorder()
    second = again.apply(
        "transform",
        pipeline.steps["score"],
        make_ctx(pipeline, "score", project, fingerprint="a" * 64, reporter=reporter),
    )
    assert second.outputs == result.outputs
    assert reporter.of("info") == [f"Re-attached to transform job {name} (Completed) from an earlier run."]
    assert ("CreateTransformJob", "write") not in again.client.calls
    assert ("CreateModel", "write") not in again.client.calls


def test_destroy_deletes_the_steps_models_and_keeps_the_output(account, project, boto):
    pipeline = _pipeline(account)
    target = _target(pipeline, project)
    result = target.apply(
        "transform", pipeline.steps["score"], make_ctx(pipeline, "score", project, fingerprint="a" * 64)
    )
    previous = Previous("a" * 64, result.outputs, {}, {}, 1)
    sentence = target.destroy(
        "transform", make_ctx(pipeline, "score", project, fingerprint="a" * 64, previous=previous)
    )
    assert sentence == f"Deleted 1 model; transform job {result.outputs['job_name']}'s output stays in S3."
    assert boto["sagemaker"].list_models()["Models"] == []
    sentence = target.destroy(
        "transform", make_ctx(pipeline, "score", project, fingerprint="a" * 64, previous=previous)
    )
    assert sentence == "Nothing of step score was left to delete."


def test_preflight_refuses_an_instance_type_batch_transform_does_not_offer(account, project):
    pipeline = _pipeline(account, instance={"type": "ml.t2.medium"})
    target = _target(pipeline, project)
    with pytest.raises(
        TargetError, match=re.escape("steps.score.instance.type ml.t2.medium cannot run batch transform jobs")
    ):
        target.preflight({"transform"})


def test_a_model_from_a_tuning_step_is_served_with_its_trainings_image(account, project, boto):
    tune = {
        "type": "tuning",
        "training": {"algorithm": "xgboost", "inputs": {"train": "data/reviews.csv"}},
        "objective": {"metric": "validation:auc"},
        "ranges": {"max_depth": {"values": [3, 5]}},
        "strategy": "Grid",
    }
    score = {"type": "transform", "model": MODEL, "input": "data/reviews.csv"}
    pipeline = make_pipeline({"tune": tune, "score": score}, **account)
    ctx = make_ctx(pipeline, "score", project, fingerprint="b" * 64, upstream={"tune": {"model": MODEL}})
    result = _target(pipeline, project).apply("transform", pipeline.steps["score"], ctx)
    model = boto["sagemaker"].describe_model(ModelName=result.details["model_name"])
    assert "xgboost" in model["PrimaryContainer"]["Image"]
