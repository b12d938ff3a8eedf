"""Processing jobs on aws: the CreateProcessingJob request, re-attaching after a kill, the report as metrics."""

from __future__ import annotations

import json

import pytest

from orchestrator.spec.models import Pipeline
from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.aws.client import AwsClient
from orchestrator.targets.aws.training import job_base_name
from orchestrator.targets.base import Previous, StepFailed

from .aws_support import BUCKET, Recorder, make_ctx, make_pipeline, new_client

FINGERPRINT = "e" * 64


class Requests(AwsClient):
    """Keeps each request's parameters: moto stores only part of a processing job."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, dict]] = []

    def call(self, service, operation, **params):
        self.sent.append((operation, params))
        return super().call(service, operation, **params)


class StillRunning(Requests):
    """moto's processing jobs complete at once; this one reports InProgress for its first describes."""

    def __init__(self, *args, polls: int = 10**6, **kwargs):
        super().__init__(*args, **kwargs)
        self.polls = polls

    def call(self, service, operation, **params):
        answer = super().call(service, operation, **params)
        if operation == "DescribeProcessingJob" and self.polls > 0 and answer["ProcessingJobStatus"] == "Completed":
            self.polls -= 1
            answer = {**answer, "ProcessingJobStatus": "InProgress"}
        return answer


def _target(pipeline: Pipeline, project, client=None) -> AwsTarget:
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=client or new_client())
    target.poll_interval_s = 0
    return target


def _pipeline(account, **extra) -> Pipeline:
    step = {
        "type": "processing",
        "framework": "sklearn",
        "entry_point": "models/train.py",
        "arguments": ["--split", "0.2"],
        "inputs": {"raw": "data/reviews.csv"},
        "outputs": ["train", "evaluation"],
        "instance": {"type": "ml.t3.medium"},
        "environment": {"MODE": "eval"},
        **extra,
    }
    return make_pipeline({"evaluate": step}, **account)


def _job_name(pipeline, project) -> str:
    return job_base_name(make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT), {})


def test_the_request_runs_the_script_in_the_sklearn_processor_with_its_inputs_and_outputs(account, project, boto):
    pipeline = _pipeline(account)
    client = new_client(Requests)
    result = _target(pipeline, project, client).apply(
        "processing", pipeline.steps["evaluate"], make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT)
    )
    name = result.outputs["job_name"]
    [request] = [params for operation, params in client.sent if operation == "CreateProcessingJob"]
    job = boto["sagemaker"].describe_processing_job(ProcessingJobName=name)
    app = job["AppSpecification"]
    assert app["ImageUri"] == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    assert app["ContainerEntrypoint"] == ["python3", "/opt/ml/processing/input/code/train.py"]
    assert app["ContainerArguments"] == ["--split", "0.2"]
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert inputs["raw"]["LocalPath"] == "/opt/ml/processing/input/raw"
    assert inputs["code"]["LocalPath"] == "/opt/ml/processing/input/code"
    bucket, _, key = inputs["code"]["S3Uri"].removeprefix("s3://").partition("/")
    listed = boto["s3"].list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]
    assert [o["Key"].removeprefix(key) for o in listed] == ["train.py"]  # the script alone: no source_dir
    outputs = {o["OutputName"]: o["S3Output"] for o in job["ProcessingOutputConfig"]["Outputs"]}
    assert outputs["evaluation"]["LocalPath"] == "/opt/ml/processing/output/evaluation"
    assert result.outputs["train"] == f"s3://{BUCKET}/orchestrator/processing/{name}/train/"
    assert result.outputs["evaluation"].endswith("/evaluation/")
    assert request["ProcessingResources"]["ClusterConfig"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.t3.medium",
        "VolumeSizeInGB": 30,
    }
    assert request["Environment"] == {"MODE": "eval"}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert {t["Key"] for t in request["Tags"]} >= {"orchestrator:pipeline", "orchestrator:step"}


def test_a_second_run_reattaches_and_reads_the_report_as_metrics(account, project, boto):
    pipeline = _pipeline(account, report={"output": "evaluation", "file": "evaluation.json"})
    name = _job_name(pipeline, project)
    report = {"metrics": {"accuracy": {"value": 0.91}, "auc": 0.88}, "note": "text is not a metric"}
    boto["s3"].put_object(
        Bucket=BUCKET, Key=f"orchestrator/processing/{name}/evaluation/evaluation.json", Body=json.dumps(report)
    )
    step = pipeline.steps["evaluate"]
    first = _target(pipeline, project).apply(
        "processing", step, make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT)
    )
    assert first.metrics == {"metrics.accuracy.value": 0.91, "metrics.auc": 0.88}
    reporter = Recorder()
    again = _target(pipeline, project)
    second = again.apply(
        "processing", step, make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT, reporter=reporter)
    )
    assert second.outputs == first.outputs
    assert again.client.counts()["write"] == 0
    assert reporter.of("info") == [f"Re-attached to processing job {name} (Completed) from an earlier run."]


def test_a_missing_report_fails_the_step(account, project):
    pipeline = _pipeline(account, report={"output": "evaluation"})
    with pytest.raises(StepFailed, match=r"evaluation\.json was not written"):
        _target(pipeline, project).apply(
            "processing", pipeline.steps["evaluate"], make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT)
        )


def test_a_run_that_waits_on_a_running_job_shows_its_status_until_it_completes(account, project):
    pipeline = _pipeline(account)
    reporter = Recorder()
    client = new_client(StillRunning, polls=2)
    _target(pipeline, project, client).apply(
        "processing",
        pipeline.steps["evaluate"],
        make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT, reporter=reporter),
    )
    assert reporter.of("status") == ["InProgress", "Completed"]
    assert [op for op, _ in client.sent].count("DescribeProcessingJob") == 3


def test_destroy_stops_a_running_job_and_leaves_a_finished_one(account, project, boto):
    pipeline = _pipeline(account)
    target = _target(pipeline, project)
    result = target.apply(
        "processing", pipeline.steps["evaluate"], make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT)
    )
    previous = Previous(FINGERPRINT, result.outputs, {}, {}, 1)
    ctx = make_ctx(pipeline, "evaluate", project, fingerprint=FINGERPRINT, previous=previous)
    assert "stays in SageMaker's history" in target.destroy("processing", ctx)
    running = _target(pipeline, project, new_client(StillRunning))
    name = result.outputs["job_name"]
    assert running.destroy("processing", ctx) == f"Stopped processing job {name}."
    job = boto["sagemaker"].describe_processing_job(ProcessingJobName=name)
    assert job["ProcessingJobStatus"] == "Stopped"


def test_plan_marks_processing_billed_on_aws(account, project):
    pipeline = _pipeline(account)
    assert _target(pipeline, project).billed("processing") is True
