"""A tuning step as a SageMaker hyperparameter tuning job: create it once, or re-attach to it.

Its training definition is the training step's CreateTrainingJob request (the same uploads,
image, channels and metric definitions), with the tuned hyperparameters left to the tuner.
The job name (at most 32 characters) derives from the step fingerprint and its inputs'
listings, so a run killed while it tuned finds the job on the next run and waits for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from ...spec.instance_types import training_types
from ...spec.tuning import Categories, TuningStep
from ..base import StepContext, StepFailed, StepResult
from .attempts import pick_attempt
from .naming import ownership_tags
from .preflight import instance_type_problems
from .sagemaker_step import SageMakerHandler
from .training import data_fingerprints, prepare_request

if TYPE_CHECKING:
    from .client import AwsClient
    from .preflight import Problem

TUNING_NAME_MAX = 32  # HyperParameterTuningJobName: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$
ATTACHABLE = ("InProgress", "Completed", "Stopping")
FINISHED = ("Completed", "Failed", "Stopped")
# What of a CreateTrainingJob request a TrainingJobDefinition takes (API reference).
DEFINITION_KEYS = (
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "Environment",
)


def tuning_job_name(pipeline: str, step: str, digest: str) -> str:
    """`<pipeline>-<step>` cut to leave room for 8 characters of digest and a `-NN` attempt suffix."""
    stem = re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9-]", "-", f"{pipeline}-{step}")).strip("-")
    return stem[: TUNING_NAME_MAX - 12].rstrip("-") + "-" + digest[:8]


def parameter_ranges(step: TuningStep) -> dict[str, list[dict[str, Any]]]:
    """ParameterRanges: numbers as strings, as the API takes them; script mode's categories JSON-encoded,
    as its containers decode every hyperparameter."""
    ranges: dict[str, list[dict[str, Any]]] = {
        "ContinuousParameterRanges": [],
        "IntegerParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    framework_mode = step.training.framework is not None
    for name, r in step.ranges.items():
        if isinstance(r, Categories):
            values = [json.dumps(v) if framework_mode else _plain(v) for v in r.values]
            ranges["CategoricalParameterRanges"].append({"Name": name, "Values": values})
        else:
            kind = "IntegerParameterRanges" if r.integer else "ContinuousParameterRanges"
            low, high = (int(r.min), int(r.max)) if r.integer else (r.min, r.max)
            ranges[kind].append({"Name": name, "MinValue": str(low), "MaxValue": str(high), "ScalingType": r.scaling})
    return {k: v for k, v in ranges.items() if v}


def _plain(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def tuning_request(step: TuningStep, ctx: StepContext, name: str, training: dict[str, Any]) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request from the training's own request."""
    limits: dict[str, int] = {"MaxParallelTrainingJobs": step.max_parallel_jobs}
    if step.max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = step.max_jobs
    config: dict[str, Any] = {
        "Strategy": step.strategy,
        "HyperParameterTuningJobObjective": {"Type": step.objective.type, "MetricName": step.objective.metric},
        "ResourceLimits": limits,
        "ParameterRanges": parameter_ranges(step),
        "TrainingJobEarlyStoppingType": step.early_stopping,
        "RandomSeed": step.seed,
    }
    definition = {k: training[k] for k in DEFINITION_KEYS if k in training}
    static = {k: v for k, v in training.get("HyperParameters", {}).items() if k not in step.ranges}
    if static:
        definition["StaticHyperParameters"] = static
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": definition,
        "Tags": ownership_tags(ctx.pipeline.name, ctx.step, step.tags),
    }


def find_job(client: AwsClient, base: str, forced: bool) -> tuple[str, str | None]:
    page = client.call("sagemaker", "ListHyperParameterTuningJobs", NameContains=base, MaxResults=100)
    jobs = (
        (j["HyperParameterTuningJobName"], j["HyperParameterTuningJobStatus"])
        for j in page.get("HyperParameterTuningJobSummaries", [])
    )
    return pick_attempt(base, jobs, ATTACHABLE, forced)


def describe(client: AwsClient, name: str) -> dict[str, Any] | None:
    return client._describe_or_none("DescribeHyperParameterTuningJob", HyperParameterTuningJobName=name)


def tune(client: AwsClient, step: TuningStep, ctx: StepContext, poll_s: float, known: dict[str, str]) -> StepResult:
    data = data_fingerprints(client, step.training, known)
    digest = hashlib.sha256(ctx.fingerprint.encode())
    for channel, fingerprint in sorted(data.items()):
        digest.update(f"\n{channel}={fingerprint}".encode())
    base = tuning_job_name(ctx.pipeline.name, ctx.step, digest.hexdigest())
    name, status = find_job(client, base, ctx.forced)
    if status is None:
        training = prepare_request(client, step.training, ctx, name)
        client.call("sagemaker", "CreateHyperParameterTuningJob", **tuning_request(step, ctx, name, training))
        ctx.reporter.info(f"Started hyperparameter tuning job {name}.")
    else:
        ctx.reporter.info(f"Re-attached to hyperparameter tuning job {name} ({status}) from an earlier run.")
    job = _wait(client, name, ctx, poll_s)
    details: dict[str, Any] = {"tuning_job_name": name, "reattached": status is not None, "data_fingerprints": data}
    details["trials"] = trials(client, name)
    best = job.get("BestTrainingJob")
    if job["HyperParameterTuningJobStatus"] != "Completed" or not best:
        reason = job.get("FailureReason") or "SageMaker gave no reason."
        raise StepFailed(
            f"Hyperparameter tuning job {name} {job['HyperParameterTuningJobStatus'].lower()}.", reason, details
        )
    details["best_trial"] = best["TrainingJobName"]
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
    output = job["TrainingJobDefinition"]["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    model = f"{output}/{best['TrainingJobName']}/output/model.tar.gz"  # where SageMaker packs a job's model
    metrics = {step.objective.metric: float(objective["Value"])} if "Value" in objective else {}
    return StepResult(
        outputs={"model": model, "job_name": name, "best_hyperparameters": dict(best.get("TunedHyperParameters", {}))},
        metrics=metrics,
        message=f"tuning job {name} completed; best {best['TrainingJobName']}"
        + "".join(f", {k}={v:g}" for k, v in metrics.items()),
        details=details,
    )


def trials(client: AwsClient, name: str) -> list[dict[str, Any]]:
    """The tuning job's training jobs, as `history` shows them."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"HyperParameterTuningJobName": name, "MaxResults": 100}
    while True:
        page = client.call("sagemaker", "ListTrainingJobsForHyperParameterTuningJob", **params)
        for job in page.get("TrainingJobSummaries", []):
            metric = job.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            found.append(
                {
                    "job_name": job["TrainingJobName"],
                    "status": job.get("TrainingJobStatus"),
                    "hyperparameters": dict(job.get("TunedHyperParameters", {})),
                    "metrics": {metric["MetricName"]: float(metric["Value"])} if "Value" in metric else {},
                }
            )
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]


def _wait(client: AwsClient, name: str, ctx: StepContext, poll_s: float) -> dict[str, Any]:
    shown = None
    while True:
        job = describe(client, name)
        if job is None:
            raise StepFailed(f"Hyperparameter tuning job {name} disappeared while waiting for it.")
        counters = job.get("TrainingJobStatusCounters", {})
        status = f"{job['HyperParameterTuningJobStatus']}: {counters.get('Completed', 0)} trials completed"
        if status != shown:
            ctx.reporter.status(status)
            shown = status
        if job["HyperParameterTuningJobStatus"] in FINISHED:
            return job
        client.sleep(poll_s)


class TuningHandler(SageMakerHandler):
    """Tuning steps as SageMaker hyperparameter tuning jobs."""

    def run(self, step: TuningStep, ctx: StepContext) -> StepResult:
        return tune(self.client, step, ctx, self.target.poll_interval_s, self.target.listings)

    def destroy(self, ctx: StepContext) -> str:
        """Tuning jobs cannot be deleted; stop one still running (SageMaker stops its trials)."""
        name = ctx.previous.outputs.get("job_name") if ctx.previous else None
        if not name:  # an interrupted run recorded nothing, but its job may still run
            stem = tuning_job_name(ctx.pipeline.name, ctx.step, "")
            page = self.client.call(
                "sagemaker", "ListHyperParameterTuningJobs", NameContains=stem, StatusEquals="InProgress"
            )
            running = [j["HyperParameterTuningJobName"] for j in page.get("HyperParameterTuningJobSummaries", [])]
            for job_name in running:
                self.client.call("sagemaker", "StopHyperParameterTuningJob", HyperParameterTuningJobName=job_name)
            if running:
                return f"Stopped hyperparameter tuning job {', '.join(running)}, which no run recorded."
            return f"Nothing of step {ctx.step} was recorded, so nothing was removed."
        job = describe(self.client, name)
        if job is not None and job["HyperParameterTuningJobStatus"] == "InProgress":
            self.client.call("sagemaker", "StopHyperParameterTuningJob", HyperParameterTuningJobName=name)
            return f"Stopped hyperparameter tuning job {name} and its training jobs."
        return f"Hyperparameter tuning job {name} stays in SageMaker's history (jobs cannot be deleted)."

    def problems(self, name: str, step: TuningStep) -> list[Problem]:
        where = f"{name}.training"  # the message names steps.<name>.training.instance.type
        return instance_type_problems(where, step.training.instance.type, training_types(), "run training jobs")
