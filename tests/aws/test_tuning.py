"""Hyperparameter tuning on SageMaker: the request we send to moto's server, re-attaching, trials, destroy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.aws.client import AwsClient
from orchestrator.targets.base import Previous, TargetError

from .aws_support import BUCKET, REGION, Recorder, make_ctx, make_pipeline, new_client

TRIALS = [
    {
        "TrainingJobName": "t-001",
        "TrainingJobStatus": "Completed",
        "TunedHyperParameters": {"C": "0.5", "kernel": '"rbf"'},
        "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "accuracy", "Value": 0.91},
    },
    {"TrainingJobName": "t-002", "TrainingJobStatus": "Failed", "TunedHyperParameters": {"C": "3"}},
]


class TuningTrials(AwsClient):
    """Answers ListTrainingJobsForHyperParameterTuningJob (moto does not implement it) as SageMaker does,
    one page at a time."""

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "ListTrainingJobsForHyperParameterTuningJob":
            if params.get("NextToken"):
                return {"TrainingJobSummaries": TRIALS[1:]}
            return {"TrainingJobSummaries": TRIALS[:1], "NextToken": "page-2"}
        return super()._invoke(service, operation, params)


def _pipeline(account, **overrides):
    step = {
        "type": "tuning",
        "training": {
            "framework": "sklearn",
            "framework_version": "1.2-1",
            "entry_point": "models/train.py",
            "inputs": {"train": "data/reviews.csv"},
            "hyperparameters": {"epochs": 3},
            "metrics": [{"name": "accuracy", "regex": "accuracy=([0-9.]+)"}],
            "instance": {"type": "ml.m5.large"},
        },
        "objective": {"metric": "accuracy", "type": "Maximize"},
        "ranges": {
            "C": {"min": 0.01, "max": 10.0, "scaling": "Logarithmic"},
            "depth": {"min": 2, "max": 8},
            "kernel": {"values": ["rbf", "linear"]},
        },
        "strategy": "Bayesian",
        "max_jobs": 20,
        "max_parallel_jobs": 4,
        "early_stopping": "Auto",
        "seed": 11,
        **overrides,
    }
    return make_pipeline({"tune": step}, **account)


def _target(pipeline, project):
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=new_client(TuningTrials))
    target.poll_interval_s = 0
    return target


def test_a_tuning_job_is_the_training_request_plus_the_tuners_settings(account, project, boto):
    pipeline = _pipeline(account)
    target = _target(pipeline, project)
    reporter = Recorder()
    ctx = make_ctx(pipeline, "tune", project, fingerprint="d" * 64, reporter=reporter)
    result = target.apply("tuning", pipeline.steps["tune"], ctx)
    name = result.outputs["job_name"]
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}", name)
    job = boto["sagemaker"].describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    config = job["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian" and config["RandomSeed"] == 11
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "accuracy"}
    assert config["ResourceLimits"] == {"MaxParallelTrainingJobs": 4, "MaxNumberOfTrainingJobs": 20}
    assert config["ParameterRanges"] == {
        "ContinuousParameterRanges": [
            {"Name": "C", "MinValue": "0.01", "MaxValue": "10.0", "ScalingType": "Logarithmic"}
        ],
        "IntegerParameterRanges": [{"Name": "depth", "MinValue": "2", "MaxValue": "8", "ScalingType": "Auto"}],
        "CategoricalParameterRanges": [{"Name": "kernel", "Values": ['"rbf"', '"linear"']}],  # script mode: JSON
    }
    definition = job["TrainingJobDefinition"]
    assert "sagemaker-scikit-learn" in definition["AlgorithmSpecification"]["TrainingImage"]
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "accuracy", "Regex": "accuracy=([0-9.]+)"}
    ]
    static = definition["StaticHyperParameters"]
    assert static["epochs"] == "3" and json.loads(static["sagemaker_program"]) == "train.py"
    assert not {"C", "depth", "kernel"} & set(static)
    assert definition["OutputDataConfig"] == {"S3OutputPath": f"s3://{BUCKET}/orchestrator/models/tune/"}
    assert definition["ResourceConfig"]["InstanceType"] == "ml.m5.large"
    best = job["BestTrainingJob"]["TrainingJobName"]
    assert result.outputs["model"] == f"s3://{BUCKET}/orchestrator/models/tune/{best}/output/model.tar.gz"
    assert result.outputs["best_hyperparameters"] == job["BestTrainingJob"]["TunedHyperParameters"]
    assert result.metrics == {
        "accuracy": float(job["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    }
    assert [(t["job_name"], t["status"], t["metrics"]) for t in result.details["trials"]] == [
        ("t-001", "Completed", {"accuracy": 0.91}),
        ("t-002", "Failed", {}),
    ]
    assert reporter.of("info") == [f"Started hyperparameter tuning job {name}."]

    again = _target(pipeline, project)
    second = again.apply("tuning", pipeline.steps["tune"], make_ctx(pipeline, "tune", project, fingerprint="d" * 64))
    assert second.outputs == result.outputs and second.details["reattached"] is True
    assert ("CreateHyperParameterTuningJob", "write") not in again.client.calls

    sentence = again.destroy(
        "tuning",
        make_ctx(
            pipeline, "tune", project, fingerprint="d" * 64, previous=Previous("d" * 64, result.outputs, {}, {}, 1)
        ),
    )
    assert sentence == f"Hyperparameter tuning job {name} stays in SageMaker's history (jobs cannot be deleted)."


def test_grid_sends_no_job_count_and_plain_categories_for_builtins(account, project, boto):
    pipeline = _pipeline(
        account,
        training={"algorithm": "xgboost", "inputs": {"train": "data/reviews.csv", "validation": "data/reviews.csv"}},
        objective={"metric": "validation:auc", "type": "Maximize"},
        ranges={"max_depth": {"values": [3, 5]}, "booster": {"values": ["gbtree", True]}},
        strategy="Grid",
        max_jobs=None,
        max_parallel_jobs=2,
        early_stopping="Off",
    )
    result = _target(pipeline, project).apply(
        "tuning", pipeline.steps["tune"], make_ctx(pipeline, "tune", project, fingerprint="e" * 64)
    )
    job = boto["sagemaker"].describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=result.outputs["job_name"])
    config = job["HyperParameterTuningJobConfig"]
    assert config["ResourceLimits"] == {"MaxParallelTrainingJobs": 2}
    assert config["ParameterRanges"] == {
        "CategoricalParameterRanges": [
            {"Name": "max_depth", "Values": ["3", "5"]},
            {"Name": "booster", "Values": ["gbtree", "true"]},
        ]
    }
    assert "MetricDefinitions" not in job["TrainingJobDefinition"]["AlgorithmSpecification"]


def test_preflight_names_the_trainings_instance_type(account, project):
    pipeline = _pipeline(account)
    pipeline.steps["tune"].training.instance.type = "ml.t2.medium"
    with pytest.raises(TargetError, match=re.escape("steps.tune.training.instance.type ml.t2.medium cannot run")):
        _target(pipeline, project).preflight({"tuning"})


def test_names_stay_within_the_32_characters_sagemaker_allows(account, project, boto):
    pipeline = make_pipeline(
        {"a-rather-long-tuning-step-name": _pipeline(account).steps["tune"].model_dump(exclude_none=True)},
        **account,
        name="a-pipeline-with-a-long-name",
    )
    result = _target(pipeline, project).apply(
        "tuning",
        pipeline.steps["a-rather-long-tuning-step-name"],
        make_ctx(pipeline, "a-rather-long-tuning-step-name", project, fingerprint="f" * 64),
    )
    assert len(result.outputs["job_name"]) <= 32 - 3  # room for an attempt suffix
    assert REGION in boto["sagemaker"].meta.region_name
