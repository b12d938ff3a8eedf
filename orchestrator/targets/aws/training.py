"""A training step as a SageMaker training job: create it once, or re-attach to it.

The job name derives from the step fingerprint (and the listing of its s3://
inputs), so a run killed while its job trained finds that job on the next run
and waits for it instead of paying for a second one.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...spec.instance_types import training_types
from ...spec.models import TrainingStep
from ..base import StepContext, StepFailed, StepResult
from . import images
from .attempts import pick_attempt
from .naming import ownership_tags, resource_name
from .preflight import instance_type_problems
from .sagemaker_step import SageMakerHandler
from .uploads import s3_listing_fingerprint, stage_input, upload_source_dir

if TYPE_CHECKING:
    from .client import AwsClient
    from .preflight import Problem

ATTACHABLE = ("InProgress", "Completed")
FINISHED = ("Completed", "Failed", "Stopped")
# Content types the built-in algorithms need to be told, by file extension.
_CONTENT_TYPES = {
    ".csv": "text/csv",
    ".libsvm": "text/libsvm",
    ".jsonl": "application/jsonlines",
    ".json": "application/json",
    ".recordio": "application/x-recordio-protobuf",
    ".txt": "text/plain",
}


def data_fingerprints(client: AwsClient, step: TrainingStep, known: Mapping[str, str]) -> dict[str, str]:
    """Fingerprints of the s3:// inputs (local inputs are already in the step fingerprint).

    `known` holds the listings taken when the run started, so each prefix is listed once per run.
    """
    return {
        channel: known.get(source) or s3_listing_fingerprint(client, source)
        for channel, source in sorted(step.inputs.items())
        if source.startswith("s3://")
    }


def job_base_name(ctx: StepContext, data: dict[str, str]) -> str:
    digest = hashlib.sha256(ctx.fingerprint.encode())
    for channel, fingerprint in sorted(data.items()):
        digest.update(f"\n{channel}={fingerprint}".encode())
    return resource_name(ctx.pipeline.name, ctx.step, digest.hexdigest())


def find_job(client: AwsClient, base: str, forced: bool = False) -> tuple[str, str | None]:
    """The name to use and the status of a job already under that name (None: create it).

    A failed or stopped job of the same fingerprint gets a fresh attempt suffix, as
    SageMaker never reuses a job name; so does a completed one when the step is forced
    (`run --force`), while a job still in progress is re-attached to either way.
    """
    jobs = ((j["TrainingJobName"], j["TrainingJobStatus"]) for j in client.list_training_jobs(base))
    return pick_attempt(base, jobs, ATTACHABLE, forced)


def _hyperparameter(value: Any, framework_mode: bool) -> str:
    if framework_mode:  # script-mode containers JSON-decode each value
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


# Built-ins whose channels default to another format (libsvm, recordio) but that read the
# label-first CSV the local stand-ins read: a folder or prefix channel is sent as CSV.
_CSV_BY_DEFAULT = {"xgboost", "knn", "linear-learner"}


def _channel(name: str, uri: str, algorithm: str | None) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
        },
    }
    suffix = Path(uri.rstrip("/")).suffix.lower()
    if algorithm and suffix in _CONTENT_TYPES:
        channel["ContentType"] = _CONTENT_TYPES[suffix]
    elif algorithm in _CSV_BY_DEFAULT:
        channel["ContentType"] = "text/csv"
    return channel


def build_request(
    step: TrainingStep,
    ctx: StepContext,
    *,
    name: str,
    image: str,
    channels: dict[str, str],
    code_uri: str | None,
) -> dict[str, Any]:
    """The CreateTrainingJob request: pure data, so it can be checked without AWS."""
    aws, region = ctx.pipeline.aws, ctx.pipeline.region
    bucket, prefix = aws.bucket, aws.prefix.strip("/")
    framework_mode = step.framework is not None
    hyperparameters = {k: _hyperparameter(v, framework_mode) for k, v in step.hyperparameters.items()}
    if framework_mode and code_uri:
        entry = ctx.path(step.entry_point or "")
        source = ctx.path(step.source_dir) if step.source_dir else entry.parent
        hyperparameters.update(
            sagemaker_program=json.dumps(entry.relative_to(source).as_posix()),
            sagemaker_submit_directory=json.dumps(code_uri),
            sagemaker_region=json.dumps(region),
        )
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": step.max_runtime_s}
    # A built-in reports its own metrics (FinalMetricDataList) and SageMaker refuses definitions for it;
    # `validate` checked that the spec's metrics are among the ones it reports.
    definitions = [] if step.algorithm else [{"Name": m.name, "Regex": m.regex} for m in step.metrics]
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": aws.role_arn,
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "MetricDefinitions": definitions,
        },
        "HyperParameters": hyperparameters,
        "InputDataConfig": [_channel(ch, uri, step.algorithm) for ch, uri in sorted(channels.items())],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{prefix}/models/{ctx.step}/"},
        "ResourceConfig": {
            "InstanceType": step.instance.type,
            "InstanceCount": step.instance.count,
            "VolumeSizeInGB": step.instance.volume_gb,
        },
        "StoppingCondition": stopping,
        "Environment": dict(step.environment),
        "Tags": ownership_tags(ctx.pipeline.name, ctx.step, step.tags),
    }
    if not request["AlgorithmSpecification"]["MetricDefinitions"]:
        del request["AlgorithmSpecification"]["MetricDefinitions"]
    for optional in ("Environment", "InputDataConfig"):  # SageMaker refuses them empty
        if not request[optional]:
            del request[optional]
    if step.spot:
        if step.spot.max_wait_s < step.max_runtime_s:
            raise StepFailed(
                f"spot.max_wait_s ({step.spot.max_wait_s}) must be at least max_runtime_s ({step.max_runtime_s}).",
                "SageMaker counts the wait for spot capacity plus the training time against max_wait_s.",
            )
        stopping["MaxWaitTimeInSeconds"] = step.spot.max_wait_s
        request["EnableManagedSpotTraining"] = True
        checkpoint = step.spot.checkpoint_s3_uri or f"s3://{bucket}/{prefix}/checkpoints/{ctx.step}/"
        request["CheckpointConfig"] = {"S3Uri": checkpoint}
    return request


def training_image(step: TrainingStep, region: str) -> str:
    if step.image:
        return step.image
    if step.algorithm:
        return images.algorithm_image(step.algorithm, region)
    if step.framework:
        return images.framework_image(step.framework, step.framework_version, region, step.instance.type)
    raise StepFailed("A training step needs one of framework, algorithm or image.")


def create_job(client: AwsClient, step: TrainingStep, ctx: StepContext, name: str) -> str:
    """Upload what the job reads, then create it; returns the image it runs."""
    request = prepare_request(client, step, ctx, name)
    client.create_training_job(request)
    return request["AlgorithmSpecification"]["TrainingImage"]


def prepare_request(client: AwsClient, step: TrainingStep, ctx: StepContext, name: str) -> dict[str, Any]:
    """Upload what the job reads (inputs, code); the CreateTrainingJob request that reads it."""
    aws = ctx.pipeline.aws
    assert aws.bucket is not None
    channels = {
        ch: src if src.startswith("s3://") else stage_input(client, aws.bucket, aws.prefix, src, ctx.project_dir).uri
        for ch, src in step.inputs.items()
    }
    code_uri = None
    if step.framework:
        if not step.entry_point:
            raise StepFailed(f"Training step {ctx.step} uses framework {step.framework} but has no entry_point.")
        entry = ctx.path(step.entry_point)
        source = ctx.path(step.source_dir) if step.source_dir else entry.parent
        if not entry.is_file():
            raise StepFailed(f"entry_point {step.entry_point} does not exist.")
        if source not in entry.parents:
            raise StepFailed(f"entry_point {step.entry_point} is not inside source_dir {step.source_dir}.")
        code_uri = upload_source_dir(client, aws.bucket, aws.prefix, source)
    image = training_image(step, ctx.pipeline.region)
    return build_request(step, ctx, name=name, image=image, channels=channels, code_uri=code_uri)


def wait_for_job(client: AwsClient, name: str, ctx: StepContext, poll_s: float) -> dict[str, Any]:
    """Poll until the job finishes, showing 'Status / SecondaryStatus' as it changes."""
    shown = None
    while True:
        job = client.describe_training_job(name)
        if job is None:
            raise StepFailed(f"Training job {name} disappeared while waiting for it.")
        status = f"{job['TrainingJobStatus']} / {job.get('SecondaryStatus', '?')}"
        if status != shown:
            ctx.reporter.status(status)
            shown = status
        if job["TrainingJobStatus"] in FINISHED:
            return job
        client.sleep(poll_s)  # the wrapper owns the clock, so tests can stand in for it


def train(
    client: AwsClient, step: TrainingStep, ctx: StepContext, poll_s: float, known: Mapping[str, str] | None = None
) -> StepResult:
    data = data_fingerprints(client, step, known or {})
    name, status = find_job(client, job_base_name(ctx, data), forced=ctx.forced)
    image = None
    if status is None:
        image = create_job(client, step, ctx, name)
        ctx.reporter.info(f"Started training job {name}.")
    else:
        ctx.reporter.info(f"Re-attached to training job {name} ({status}) from an earlier run.")
    job = wait_for_job(client, name, ctx, poll_s)
    result = result_of(job, reattached=status is not None, data=data, image=image)
    unpacked = unpack_output_data(client, result.outputs.pop("data"))
    if unpacked:
        result.outputs["data"] = unpacked
    return result


def unpack_output_data(client: AwsClient, archive_uri: str) -> str | None:
    """SageMaker packs SM_OUTPUT_DATA_DIR into output.tar.gz; a later job's channel needs the files.

    Unpacked once, beside the archive, under `output/data/`; returns that prefix, or None
    when the script wrote no output data. Re-attaching to a job reuses what is there.
    """
    bucket, _, key = archive_uri.removeprefix("s3://").partition("/")
    prefix = key.rsplit("/", 1)[0] + "/data/"
    if client.list_objects(bucket, prefix):
        return f"s3://{bucket}/{prefix}"
    body = client.get_object(bucket, key)
    if body is None:
        return None
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and _safe(m.name)]
        for member in members:
            client.put_object(bucket, prefix + member.name.removeprefix("./"), tar.extractfile(member).read())
    return f"s3://{bucket}/{prefix}" if members else None


def _safe(name: str) -> bool:
    """A member name that stays inside the prefix it is unpacked under."""
    return not name.startswith("/") and ".." not in name.split("/")


def result_of(job: dict[str, Any], *, reattached: bool, data: dict[str, str], image: str | None) -> StepResult:
    name = job["TrainingJobName"]
    details: dict[str, Any] = {
        "job_name": name,
        "job_arn": job.get("TrainingJobArn"),
        "image": image or job.get("AlgorithmSpecification", {}).get("TrainingImage"),
        "billable_seconds": job.get("BillableTimeInSeconds"),
        "training_seconds": job.get("TrainingTimeInSeconds"),
        "reattached": reattached,
        "data_fingerprints": data,
    }
    if job["TrainingJobStatus"] != "Completed":
        reason = job.get("FailureReason") or "SageMaker gave no reason."
        verb = "failed" if job["TrainingJobStatus"] == "Failed" else "was stopped"
        details["failure_reason"] = reason
        raise StepFailed(f"Training job {name} {verb}.", reason, details)
    metrics = {m["MetricName"]: float(m["Value"]) for m in job.get("FinalMetricDataList", [])}
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    shown = ", ".join(f"{k}={v:g}" for k, v in sorted(metrics.items()))
    billed = f", {details['billable_seconds']} s billed" if details["billable_seconds"] is not None else ""
    message = f"training job {name} completed{billed}" + (f"; {shown}" if shown else "")
    # SageMaker packs the job's SM_OUTPUT_DATA_DIR to output.tar.gz beside the model.
    output_path = job.get("OutputDataConfig", {}).get("S3OutputPath", "").rstrip("/")
    output_data = f"{output_path}/{name}/output/output.tar.gz"
    outputs = {"model": artifact, "job_name": name, "data": output_data}
    return StepResult(outputs=outputs, metrics=metrics, message=message, details=details)


class TrainingHandler(SageMakerHandler):
    """Training steps as SageMaker training jobs."""

    def run(self, step: TrainingStep, ctx: StepContext) -> StepResult:
        return train(self.client, step, ctx, self.target.poll_interval_s, known=self.target.listings)

    def destroy(self, ctx: StepContext) -> str:
        """Training jobs cannot be deleted; stop one still running, leave history and artifacts."""
        name = ctx.previous.outputs.get("job_name") if ctx.previous else None
        if not name:
            return f"Nothing of step {ctx.step} was recorded, so nothing was removed."
        job = self.client.describe_training_job(name)
        if job is not None and job["TrainingJobStatus"] == "InProgress":
            self.client.stop_training_job(name)
            return f"Stopped training job {name}."
        model = ctx.previous.outputs.get("model") if ctx.previous else None
        kept = f"; its model artifact stays at {model}" if model else ""
        return f"Training job {name} stays in SageMaker's history (jobs cannot be deleted){kept}."

    def problems(self, name: str, step: TrainingStep) -> list[Problem]:
        return instance_type_problems(name, step.instance.type, training_types(), "run training jobs")
