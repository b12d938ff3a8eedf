"""A transform step as a SageMaker batch transform job: a model (CreateModel), then the job.

The model is built as an endpoint's is (its image, handler and environment), and the
model and job names derive from the step fingerprint and the input's listing, so a run
killed while its job ran re-attaches to it on the next run instead of paying twice.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ...spec.transform import TransformStep, transform_types
from ..base import StepContext, StepFailed, StepResult
from .attempts import pick_attempt
from .endpoint import _container
from .naming import owned_by, ownership_tags, resource_name, resource_prefix
from .preflight import instance_type_problems
from .sagemaker_step import SageMakerHandler
from .uploads import stage_input

if TYPE_CHECKING:
    from .client import AwsClient
    from .preflight import Problem

ATTACHABLE = ("InProgress", "Completed", "Stopping")
FINISHED = ("Completed", "Failed", "Stopped")


def transform_request(
    step: TransformStep, ctx: StepContext, *, name: str, model: str, input_uri: str, output_uri: str
) -> dict[str, Any]:
    """The CreateTransformJob request: pure data, so it can be checked without AWS."""
    transform_input: dict[str, Any] = {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
        "ContentType": step.content_type,
        "SplitType": step.split_type,
        "CompressionType": "None",
    }
    transform_output: dict[str, Any] = {"S3OutputPath": output_uri, "AssembleWith": step.assemble_with}
    if step.accept:
        transform_output["Accept"] = step.accept
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": model,
        "BatchStrategy": step.strategy,
        "MaxPayloadInMB": step.max_payload_mb,
        "TransformInput": transform_input,
        "TransformOutput": transform_output,
        "TransformResources": {"InstanceType": step.instance.type, "InstanceCount": step.instance.count},
        "Tags": ownership_tags(ctx.pipeline.name, ctx.step, step.tags),
    }
    if step.environment:
        request["Environment"] = dict(step.environment)
    return request


def output_prefix(ctx: StepContext, name: str) -> str:
    aws = ctx.pipeline.aws
    prefix = aws.prefix.strip("/")
    return f"s3://{aws.bucket}/" + "/".join(p for p in (prefix, "transforms", ctx.step, name) if p) + "/"


def find_job(client: AwsClient, base: str, forced: bool) -> tuple[str, str | None]:
    """The job name to use and the status of one already under it (None: create it), as training does."""
    page = client.call("sagemaker", "ListTransformJobs", NameContains=base, MaxResults=100)
    jobs = ((j["TransformJobName"], j["TransformJobStatus"]) for j in page.get("TransformJobSummaries", []))
    return pick_attempt(base, jobs, ATTACHABLE, forced)


def describe(client: AwsClient, name: str) -> dict[str, Any] | None:
    return client._describe_or_none("DescribeTransformJob", TransformJobName=name)


def run_transform(client: AwsClient, step: TransformStep, ctx: StepContext, poll_s: float) -> StepResult:
    aws = ctx.pipeline.aws
    assert aws.bucket is not None
    staged = stage_input(client, aws.bucket, aws.prefix, step.input, ctx.project_dir)
    digest = hashlib.sha256(f"{ctx.fingerprint}\n{step.model}\n{staged.fingerprint}".encode()).hexdigest()
    base = resource_name(ctx.pipeline.name, ctx.step, digest)
    tags = ownership_tags(ctx.pipeline.name, ctx.step, step.tags)
    if client.describe_model(base) is None:
        client.create_model(
            {
                "ModelName": base,
                "PrimaryContainer": _container(client, step, ctx),  # type: ignore[arg-type]  (an endpoint's settings)
                "ExecutionRoleArn": aws.role_arn,
                "Tags": tags,
            }
        )
    name, status = find_job(client, base, ctx.forced)
    output = output_prefix(ctx, name)
    if status is None:
        request = transform_request(step, ctx, name=name, model=base, input_uri=staged.uri, output_uri=output)
        client.call("sagemaker", "CreateTransformJob", **request)
        ctx.reporter.info(f"Started transform job {name}.")
    else:
        ctx.reporter.info(f"Re-attached to transform job {name} ({status}) from an earlier run.")
    job = _wait(client, name, ctx, poll_s)
    details = {"job_name": name, "model_name": base, "reattached": status is not None, "input": staged.uri}
    if job["TransformJobStatus"] != "Completed":
        reason = job.get("FailureReason") or "SageMaker gave no reason."
        verb = "failed" if job["TransformJobStatus"] == "Failed" else "was stopped"
        raise StepFailed(f"Transform job {name} {verb}.", reason, {**details, "failure_reason": reason})
    output = job.get("TransformOutput", {}).get("S3OutputPath", output)
    return StepResult(
        outputs={"data": output.rstrip("/") + "/", "job_name": name},
        message=f"transform job {name} completed",
        details=details,
    )


def _wait(client: AwsClient, name: str, ctx: StepContext, poll_s: float) -> dict[str, Any]:
    shown = None
    while True:
        job = describe(client, name)
        if job is None:
            raise StepFailed(f"Transform job {name} disappeared while waiting for it.")
        if job["TransformJobStatus"] != shown:
            shown = job["TransformJobStatus"]
            ctx.reporter.status(shown)
        if shown in FINISHED:
            return job
        client.sleep(poll_s)


def destroy(client: AwsClient, ctx: StepContext) -> str:
    """Stop a job still running; delete the models this step made. Jobs stay in SageMaker's history,
    their output in S3."""
    said: list[str] = []
    name = ctx.previous.outputs.get("job_name") if ctx.previous else None
    prefix = resource_prefix(ctx.pipeline.name, ctx.step)
    page = client.call("sagemaker", "ListTransformJobs", NameContains=prefix, StatusEquals="InProgress")
    running = [j["TransformJobName"] for j in page.get("TransformJobSummaries", [])]
    for job in running:
        if job.startswith(prefix):
            client.call("sagemaker", "StopTransformJob", TransformJobName=job)
            said.append(f"stopped transform job {job}")
    models = 0
    for model in client.list_models(prefix):
        if model["ModelName"].startswith(prefix) and owned_by(
            client.tags(model["ModelArn"]), ctx.pipeline.name, ctx.step
        ):
            client.delete_model(model["ModelName"])
            models += 1
    if models:
        said.append(f"deleted {models} model{'s' if models != 1 else ''}")
    if not said:
        return f"Nothing of step {ctx.step} was left to delete."
    kept = f"; transform job {name}'s output stays in S3" if name else ""
    sentence = "; ".join(said) + kept
    return sentence[0].upper() + sentence[1:] + "."


class TransformHandler(SageMakerHandler):
    """Transform steps as SageMaker batch transform jobs."""

    def run(self, step: TransformStep, ctx: StepContext) -> StepResult:
        return run_transform(self.client, step, ctx, self.target.poll_interval_s)

    def destroy(self, ctx: StepContext) -> str:
        return destroy(self.client, ctx)

    def problems(self, name: str, step: TransformStep) -> list[Problem]:
        return instance_type_problems(name, step.instance.type, transform_types(), "run batch transform jobs")
