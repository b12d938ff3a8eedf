"""Training jobs: the request we send, re-attaching after a kill, retraining when data changes."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.aws.training import build_request, job_base_name
from orchestrator.targets.base import Previous, StepFailed

from .aws_support import (
    BUCKET,
    JobOutcome,
    Recorder,
    assert_accepted,
    make_ctx,
    make_pipeline,
    new_client,
)

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/reviews:1"


def _target(pipeline, project, client=None) -> AwsTarget:
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=client or new_client())
    target.poll_interval_s = 0
    return target


def _jobs(boto) -> list[str]:
    return [j["TrainingJobName"] for j in boto["sagemaker"].list_training_jobs()["TrainingJobSummaries"]]


def test_a_run_killed_while_training_reattaches_instead_of_paying_twice(account, project, boto):
    pipeline = make_pipeline(
        {"train": {"type": "training", "image": IMAGE, "inputs": {"train": "data/reviews.csv"}}}, **account
    )
    first = _target(pipeline, project, JobOutcome("us-east-1", in_progress_polls=10**6, sleep=lambda s: None))
    # The first run creates the job, then "dies": we stop polling by failing the wait after creation.
    first.client.sleep = _die_after(1)
    with pytest.raises(KilledRun):
        first.apply("training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="c" * 64))
    assert first.client.calls[("CreateTrainingJob", "write")] == 1

    reporter = Recorder()
    second = _target(pipeline, project, JobOutcome("us-east-1", in_progress_polls=2, sleep=lambda s: None))
    result = second.apply(
        "training",
        pipeline.steps["train"],
        make_ctx(pipeline, "train", project, fingerprint="c" * 64, reporter=reporter),
    )
    assert ("CreateTrainingJob", "write") not in second.client.calls
    assert second.client.counts()["write"] == 0
    assert _jobs(boto) == [result.outputs["job_name"]]
    assert reporter.of("info") == [
        f"Re-attached to training job {result.outputs['job_name']} (InProgress) from an earlier run."
    ]
    assert reporter.of("status") == ["InProgress / Training", "Completed / Completed"]
    assert result.details["reattached"] is True
    assert result.details["billable_seconds"] == 42
    assert result.message.startswith(f"training job {result.outputs['job_name']} completed, 42 s billed; ")


class KilledRun(BaseException):
    """Stands for the process dying (SIGKILL): nothing after it runs."""


def _die_after(polls: int):
    count = {"n": 0}

    def sleep(seconds: float) -> None:
        count["n"] += 1
        if count["n"] >= polls:
            raise KilledRun()

    return sleep


def test_changed_s3_data_means_a_new_job(account, project, boto):
    boto["s3"].put_object(Bucket=BUCKET, Key="data/reviews/part-0.csv", Body=b"great,1\n")
    pipeline = make_pipeline(
        {"train": {"type": "training", "image": IMAGE, "inputs": {"train": f"s3://{BUCKET}/data/reviews/"}}}, **account
    )
    target = _target(pipeline, project)
    first = target.apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="d" * 64)
    )
    again = target.apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="d" * 64)
    )
    assert again.outputs == first.outputs  # same data: same job

    boto["s3"].put_object(Bucket=BUCKET, Key="data/reviews/part-0.csv", Body=b"great,1\nawful,0\n")
    changed = target.apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="d" * 64)
    )
    assert changed.outputs["job_name"] != first.outputs["job_name"]
    assert changed.details["data_fingerprints"]["train"] != first.details["data_fingerprints"]["train"]
    assert sorted(_jobs(boto)) == sorted([first.outputs["job_name"], changed.outputs["job_name"]])
    described = boto["sagemaker"].describe_training_job(TrainingJobName=changed.outputs["job_name"])
    assert described["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{BUCKET}/data/reviews/"


def test_a_failed_job_reports_its_reason_and_the_next_run_gets_a_new_name(account, project, boto):
    pipeline = make_pipeline({"train": {"type": "training", "image": IMAGE}}, **account)
    failing = _target(pipeline, project, JobOutcome("us-east-1", failure="AlgorithmError: train.py exited with 1"))
    with pytest.raises(StepFailed) as failed:
        failing.apply("training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="e" * 64))
    name = failed.value.details["job_name"]
    assert str(failed.value) == f"Training job {name} failed."
    assert failed.value.detail == "AlgorithmError: train.py exited with 1"

    # moto keeps the job Completed; mark it Failed the way SageMaker would have, then retry.
    retry = _target(pipeline, project, _ListsAsFailed("us-east-1", sleep=lambda s: None))
    result = retry.apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="e" * 64)
    )
    assert result.outputs["job_name"] == f"{name}-2"


class _ListsAsFailed(JobOutcome):
    """Lists every existing job as Failed (moto's jobs always complete)."""

    def _invoke(self, service, operation, params):
        result = super()._invoke(service, operation, params)
        if operation == "ListTrainingJobs":
            result = {
                "TrainingJobSummaries": [{**j, "TrainingJobStatus": "Failed"} for j in result["TrainingJobSummaries"]]
            }
        return result


def test_script_mode_ships_the_source_folder(account, project, boto):
    pipeline = make_pipeline(
        {
            "train": {
                "type": "training",
                "framework": "sklearn",
                "entry_point": "models/train.py",
                "inputs": {"train": "data/reviews.csv"},
                "hyperparameters": {"C": 2.0, "kernel": "rbf"},
            }
        },
        **account,
    )
    result = _target(pipeline, project).apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="f" * 64)
    )
    job = boto["sagemaker"].describe_training_job(TrainingJobName=result.outputs["job_name"])
    hps = job["HyperParameters"]
    assert json.loads(hps["sagemaker_program"]) == "train.py"
    assert json.loads(hps["sagemaker_region"]) == "us-east-1"
    assert hps["C"] == "2.0" and hps["kernel"] == '"rbf"'
    code = json.loads(hps["sagemaker_submit_directory"])
    assert code.startswith(f"s3://{BUCKET}/orchestrator/code/sha256/") and code.endswith("/sourcedir.tar.gz")
    archive = boto["s3"].get_object(Bucket=BUCKET, Key=code.split("/", 3)[3])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert sorted(tar.getnames()) == ["inference.py", "train.py"]
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3")


def test_built_in_algorithm_request(account, project):
    pipeline = make_pipeline(
        {
            "train": {
                "type": "training",
                "algorithm": "xgboost",
                "inputs": {"train": "data/reviews.csv"},
                "hyperparameters": {"num_round": 50, "early_stopping": True},
                "instance": {"type": "ml.m5.xlarge", "count": 2, "volume_gb": 50},
                "max_runtime_s": 3600,
                "spot": {"max_wait_s": 7200},
                "environment": {"LOG_LEVEL": "debug"},
                "metrics": [{"name": "validation:auc", "regex": "auc:([0-9.]+)"}],
            }
        },
        **account,
    )
    from orchestrator.targets.aws.training import training_image

    step = pipeline.steps["train"]
    ctx = make_ctx(pipeline, "train", project, fingerprint="1" * 64)
    image = training_image(step, "us-east-1")
    assert image.endswith("/sagemaker-xgboost:1.7-1")
    request = build_request(
        step, ctx, name="job", image=image, channels={"train": "s3://b/k/reviews.csv"}, code_uri=None
    )
    assert request["HyperParameters"] == {"num_round": "50", "early_stopping": "true"}
    assert request["InputDataConfig"][0]["ContentType"] == "text/csv"
    assert request["ResourceConfig"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 50}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert request["EnableManagedSpotTraining"] is True
    assert request["CheckpointConfig"] == {"S3Uri": f"s3://{BUCKET}/orchestrator/checkpoints/train/"}
    # SageMaker refuses metric definitions for its algorithms: they report their own (FinalMetricDataList).
    assert "MetricDefinitions" not in request["AlgorithmSpecification"]
    assert {"Key": "orchestrator:step", "Value": "train"} in request["Tags"]
    assert request["Environment"] == {"LOG_LEVEL": "debug"}
    assert_accepted("sagemaker", "CreateTrainingJob", request)


def test_script_mode_sends_the_metric_definitions(account, project):
    """A script's metrics come from its log, so its job carries the spec's regexes."""
    pipeline = make_pipeline(
        {
            "train": {
                "type": "training",
                "framework": "sklearn",
                "entry_point": "models/train.py",
                "metrics": [{"name": "accuracy", "regex": "accuracy=([0-9.]+)"}],
            }
        },
        **account,
    )
    request = build_request(
        pipeline.steps["train"],
        make_ctx(pipeline, "train", project, fingerprint="1" * 64),
        name="job",
        image=IMAGE,
        channels={},
        code_uri=f"s3://{BUCKET}/code/sourcedir.tar.gz",
    )
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "accuracy", "Regex": "accuracy=([0-9.]+)"}
    ]
    assert_accepted("sagemaker", "CreateTrainingJob", request)


def test_a_built_in_records_the_metrics_it_reported(account, project):
    """A built-in's metrics are read from the job (FinalMetricDataList), as SageMaker reports them."""
    pipeline = make_pipeline(
        {
            "train": {
                "type": "training",
                "algorithm": "knn",
                "inputs": {"train": "data/reviews.csv"},
                "hyperparameters": {"k": 3, "predictor_type": "classifier", "feature_dim": 1, "sample_size": 2},
                "metrics": [{"name": "test:accuracy", "regex": "test accuracy <score>=([0-9.]+)"}],
            }
        },
        **account,
    )
    client = new_client(JobOutcome, final_metrics={"test:accuracy": 0.92})
    result = _target(pipeline, project, client).apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="9" * 64)
    )
    assert result.metrics == {"test:accuracy": 0.92}
    assert result.message.endswith("; test:accuracy=0.92")


def test_spot_wait_shorter_than_runtime_is_refused(account, project):
    pipeline = make_pipeline(
        {"train": {"type": "training", "image": IMAGE, "max_runtime_s": 3600, "spot": {"max_wait_s": 60}}}, **account
    )
    ctx = make_ctx(pipeline, "train", project, fingerprint="1" * 64)
    with pytest.raises(StepFailed, match=r"^spot.max_wait_s \(60\) must be at least max_runtime_s \(3600\).$"):
        build_request(pipeline.steps["train"], ctx, name="j", image=IMAGE, channels={}, code_uri=None)


def test_job_name_follows_the_fingerprint(account, project):
    pipeline = make_pipeline({"my_train": {"type": "training", "image": IMAGE}}, **account)
    ctx = make_ctx(pipeline, "my_train", project, fingerprint="2" * 64)
    name = job_base_name(ctx, {})
    assert name.startswith("movie-reviews-my-train-") and len(name) <= 63
    assert job_base_name(ctx, {"train": "x"}) != name


def test_training_needs_role_and_bucket(aws_env, project):
    """The step fails before any AWS call, with the message validate shows for the same spec."""
    pipeline = make_pipeline({"train": {"type": "training", "image": IMAGE}}, role_arn=None, bucket="b")
    target = _target(pipeline, project)
    with pytest.raises(StepFailed) as failed:
        target.apply("training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="3" * 64))
    assert str(failed.value) == "target aws needs aws.role_arn"
    assert (
        failed.value.hint
        == "e.g. aws: {role_arn: arn:aws:iam::123456789012:role/SageMakerExecution} or role_arn: ${env:...}"
    )
    assert target.client.calls == {}


def test_an_endpoint_needs_role_and_bucket_too(aws_env, project):
    pipeline = make_pipeline(
        {
            "deploy": {
                "type": "endpoint",
                "model": "s3://b/m.tar.gz",
                "image": IMAGE,
                "instance": {"type": "ml.t2.medium"},
            }
        },
        role_arn="arn:aws:iam::123456789012:role/r",
        bucket=None,
    )
    target = _target(pipeline, project)
    with pytest.raises(StepFailed, match=r"^target aws needs aws.bucket$"):
        target.apply("endpoint", pipeline.steps["deploy"], make_ctx(pipeline, "deploy", project, fingerprint="3" * 64))
    assert target.client.calls == {}


def test_destroy_stops_a_job_still_running(account, project, boto):
    pipeline = make_pipeline({"train": {"type": "training", "image": IMAGE}}, **account)
    created = _target(pipeline, project).apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="4" * 64)
    )
    running = _target(pipeline, project, _StoppableJob("us-east-1", in_progress_polls=1, sleep=lambda s: None))
    previous = Previous("4" * 64, created.outputs, {}, created.details, run_id=1)
    said = running.destroy("training", make_ctx(pipeline, "train", project, fingerprint="4" * 64, previous=previous))
    assert said == f"Stopped training job {created.outputs['job_name']}."
    assert running.client.calls[("StopTrainingJob", "write")] == 1


class _StoppableJob(JobOutcome):
    """moto cannot stop the job it already completed; this answers StopTrainingJob as SageMaker does."""

    def _invoke(self, service, operation, params):
        if operation == "StopTrainingJob":
            return {}
        return super()._invoke(service, operation, params)


def test_a_forced_retrain_starts_a_new_job_even_when_one_completed(account, project, boto):
    """`run --force train` must pay for a new job: re-attaching to the completed one would retrain nothing."""
    pipeline = make_pipeline(
        {"train": {"type": "training", "image": IMAGE, "inputs": {"train": "data/reviews.csv"}}}, **account
    )
    first = _target(pipeline, project).apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="d" * 64)
    )
    again = _target(pipeline, project).apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="d" * 64)
    )
    assert again.outputs["job_name"] == first.outputs["job_name"]  # unforced: the finished job is reused
    forced = _target(pipeline, project).apply(
        "training", pipeline.steps["train"], make_ctx(pipeline, "train", project, fingerprint="d" * 64, forced=True)
    )
    assert forced.outputs["job_name"] == first.outputs["job_name"] + "-2"
    assert sorted(_jobs(boto)) == sorted([first.outputs["job_name"], forced.outputs["job_name"]])


def test_output_data_is_unpacked_for_the_next_steps_channel(account, project, boto):
    """SageMaker tars SM_OUTPUT_DATA_DIR; the `data` output is the unpacked prefix a later job can read.

    moto's jobs write nothing, so the test puts the archive where SageMaker would."""
    pipeline = make_pipeline(
        {"features": {"type": "training", "image": IMAGE, "inputs": {"train": "data/reviews.csv"}}}, **account
    )
    target = _target(pipeline, project)
    ctx = make_ctx(pipeline, "features", project, fingerprint="e" * 64)
    first = target.apply("training", pipeline.steps["features"], ctx)
    assert "data" not in first.outputs  # the script wrote no output data

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, body in (("train.csv", b"1,0.5\n0,0.1\n"), ("../escape.csv", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    job = first.outputs["job_name"]
    key = f"orchestrator/models/features/{job}/output/output.tar.gz"
    boto["s3"].put_object(Bucket=BUCKET, Key=key, Body=archive.getvalue())

    again = _target(pipeline, project).apply("training", pipeline.steps["features"], ctx)  # re-attaches to the job
    prefix = f"orchestrator/models/features/{job}/output/data/"
    assert again.outputs["data"] == f"s3://{BUCKET}/{prefix}"
    listed = [o["Key"] for o in boto["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]
    assert listed == [prefix + "train.csv"]  # the member that would leave the prefix is dropped


def test_prefix_channels_of_csv_built_ins_are_sent_as_csv(account, project):
    """XGBoost reads libsvm and KNN recordio unless told: a prefix (e.g. another step's data) must say text/csv."""
    pipeline = make_pipeline(
        {
            "train": {
                "type": "training",
                "algorithm": "xgboost",
                "inputs": {"train": "s3://bucket/features/output/data/", "validation": "s3://bucket/v.libsvm"},
                "hyperparameters": {"num_round": 10},
            }
        },
        **account,
    )
    request = build_request(
        pipeline.steps["train"],
        make_ctx(pipeline, "train", project, fingerprint="f" * 64),
        name="job",
        image="image",
        code_uri=None,
        channels={"train": "s3://bucket/features/output/data/", "validation": "s3://bucket/v.libsvm"},
    )
    types = {c["ChannelName"]: c.get("ContentType") for c in request["InputDataConfig"]}
    assert types == {"train": "text/csv", "validation": "text/libsvm"}
