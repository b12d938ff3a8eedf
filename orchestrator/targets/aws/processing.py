"""A processing step as a SageMaker Processing job: create it once, or re-attach to it.

As with training, the job name derives from the step fingerprint (and the listing of
its s3:// inputs), so a run killed while its job ran finds it on the next run. The
script (or its source_dir) is uploaded file by file under a content-addressed prefix
and mounted as the `code` input, where the framework processor runs it with python3;
each output is uploaded by SageMaker at the job's end to a prefix named by the job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...files import relative_files, tree_digest
from ...spec.processing import CODE_INPUT, ProcessingStep, processing_types, report_metrics
from ..base import StepContext, StepFailed, StepResult
from . import images
from .attempts import pick_attempt
from .naming import ownership_tags
from .preflight import instance_type_problems
from .sagemaker_step import SageMakerHandler
from .training import job_base_name
from .uploads import s3_listing_fingerprint, split_s3_uri, stage_input

if TYPE_CHECKING:
    from .client import AwsClient
    from .preflight import Problem

ATTACHABLE = ("InProgress", "Completed", "Stopping")
FINISHED = ("Completed", "Failed", "Stopped")
CONTAINER = "/opt/ml/processing"


def container_path(kind: str, name: str) -> str:
    return f"{CONTAINER}/{kind}/{name}"


def build_request(
    step: ProcessingStep,
    ctx: StepContext,
    *,
    name: str,
    image: str,
    inputs: dict[str, str],
    code_uri: str | None,
    script: str | None,
) -> dict[str, Any]:
    """The CreateProcessingJob request: pure data, so it can be checked without AWS."""
    aws = ctx.pipeline.aws
    app: dict[str, Any] = {"ImageUri": image}
    if script:
        app["ContainerEntrypoint"] = ["python3", f"{container_path('input', CODE_INPUT)}/{script}"]
    if step.arguments:
        app["ContainerArguments"] = list(step.arguments)
    channels = dict(inputs)
    if code_uri:
        channels[CODE_INPUT] = code_uri
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "RoleArn": aws.role_arn,
        "AppSpecification": app,
        "ProcessingInputs": [
            {
                "InputName": input_name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": container_path("input", input_name),
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
            for input_name, uri in channels.items()
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": output,
                    "S3Output": {
                        "S3Uri": output_uri(ctx, name, output),
                        "LocalPath": container_path("output", output),
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for output in step.outputs
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": step.instance.count,
                "InstanceType": step.instance.type,
                "VolumeSizeInGB": step.instance.volume_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": step.max_runtime_s},
        "Environment": dict(step.environment),
        "Tags": ownership_tags(ctx.pipeline.name, ctx.step, step.tags),
    }
    if not step.outputs:
        del request["ProcessingOutputConfig"]
    for optional in ("Environment", "ProcessingInputs"):  # SageMaker refuses them empty
        if not request[optional]:
            del request[optional]
    return request


def output_uri(ctx: StepContext, job: str, output: str) -> str:
    aws = ctx.pipeline.aws
    return f"s3://{aws.bucket}/{aws.prefix.strip('/')}/processing/{job}/{output}/"


def processing_image(step: ProcessingStep, region: str) -> str:
    """The image, or the framework's: the SDK's SKLearnProcessor runs the scikit-learn framework container."""
    if step.image:
        return step.image
    assert step.framework is not None
    return images.framework_image(step.framework, step.framework_version, region, step.instance.type)


def upload_code(client: AwsClient, bucket: str, prefix: str, files: list[tuple[str, Path]]) -> str:
    """The script (or its source_dir), file by file, under its content's digest; uploaded once."""
    digest = tree_digest(files)
    base = f"{prefix.strip('/')}/code/sha256/{digest}/files/"
    if not client.list_objects(bucket, base):
        for relative, path in files:
            client.put_object(bucket, base + relative, path.read_bytes())
    return f"s3://{bucket}/{base}"


def _code(step: ProcessingStep, ctx: StepContext) -> tuple[str | None, list[tuple[str, Path]]]:
    if not step.entry_point:
        return None, []
    entry = ctx.path(step.entry_point)
    if not entry.is_file():
        raise StepFailed(f"entry_point {step.entry_point} does not exist.")
    if not step.source_dir:
        return entry.name, [(entry.name, entry)]
    source = ctx.path(step.source_dir)
    if source not in entry.parents:
        raise StepFailed(f"entry_point {step.entry_point} is not inside source_dir {step.source_dir}.")
    return entry.relative_to(source).as_posix(), relative_files(source)


def find_job(client: AwsClient, base: str, forced: bool) -> tuple[str, str | None]:
    """The name to use and the status of a job already under it (None: create it); a failed or
    stopped one, or a completed one when forced, gets a fresh attempt suffix (names are never reused)."""
    page = client.call("sagemaker", "ListProcessingJobs", NameContains=base, MaxResults=100)
    jobs = ((j["ProcessingJobName"], j["ProcessingJobStatus"]) for j in page.get("ProcessingJobSummaries", []))
    return pick_attempt(base, jobs, ATTACHABLE, forced)


def describe(client: AwsClient, name: str) -> dict[str, Any] | None:
    return client._describe_or_none("DescribeProcessingJob", ProcessingJobName=name)


class ProcessingHandler(SageMakerHandler):
    """Processing steps as SageMaker Processing jobs."""

    def run(self, step: ProcessingStep, ctx: StepContext) -> StepResult:
        client, aws = self.client, ctx.pipeline.aws
        assert aws.bucket is not None
        known = self.target.listings
        data = {
            n: known.get(src) or s3_listing_fingerprint(client, src)
            for n, src in sorted(step.inputs.items())
            if src.startswith("s3://")
        }
        name, status = find_job(client, job_base_name(ctx, data), ctx.forced)
        image = None
        if status is None:
            script, files = _code(step, ctx)
            code_uri = upload_code(client, aws.bucket, aws.prefix, files) if files else None
            inputs = {
                n: src
                if src.startswith("s3://")
                else stage_input(client, aws.bucket, aws.prefix, src, ctx.project_dir).uri
                for n, src in step.inputs.items()
            }
            image = processing_image(step, ctx.pipeline.region)
            request = build_request(step, ctx, name=name, image=image, inputs=inputs, code_uri=code_uri, script=script)
            client.call("sagemaker", "CreateProcessingJob", **request)
            ctx.reporter.info(f"Started processing job {name}.")
        else:
            ctx.reporter.info(f"Re-attached to processing job {name} ({status}) from an earlier run.")
        job = self._wait(name, ctx)
        return self._result(step, job, reattached=status is not None, data=data, image=image)

    def _wait(self, name: str, ctx: StepContext) -> dict[str, Any]:
        shown = None
        while True:
            job = describe(self.client, name)
            if job is None:
                raise StepFailed(f"Processing job {name} disappeared while waiting for it.")
            if job["ProcessingJobStatus"] != shown:
                shown = job["ProcessingJobStatus"]
                ctx.reporter.status(shown)
            if shown in FINISHED:
                return job
            self.client.sleep(self.target.poll_interval_s)

    def _result(self, step: ProcessingStep, job: dict[str, Any], **facts: Any) -> StepResult:
        name = job["ProcessingJobName"]
        details = {"job_name": name, "job_arn": job.get("ProcessingJobArn"), **facts}
        details["image"] = details["image"] or job.get("AppSpecification", {}).get("ImageUri")
        if job["ProcessingJobStatus"] != "Completed":
            reason = job.get("FailureReason") or job.get("ExitMessage") or "SageMaker gave no reason."
            verb = "failed" if job["ProcessingJobStatus"] == "Failed" else "was stopped"
            raise StepFailed(f"Processing job {name} {verb}.", reason, {**details, "failure_reason": reason})
        outputs: dict[str, Any] = {"job_name": name}
        for output in job.get("ProcessingOutputConfig", {}).get("Outputs", []):
            outputs[output["OutputName"]] = output["S3Output"]["S3Uri"]
        metrics = self._report(step, outputs)
        shown = ", ".join(f"{k}={v:g}" for k, v in metrics.items())
        message = f"processing job {name} completed" + (f"; {shown}" if shown else "")
        return StepResult(outputs=outputs, metrics=metrics, message=message, details=details)

    def _report(self, step: ProcessingStep, outputs: dict[str, Any]) -> dict[str, float]:
        if step.report is None:
            return {}
        uri = outputs.get(step.report.output, "").rstrip("/") + "/" + step.report.file
        bucket, key = split_s3_uri(uri)
        body = self.client.get_object(bucket, key)
        if body is None:
            raise StepFailed(f"The report {uri} was not written.", "The script writes it under its output folder.")
        try:
            metrics = report_metrics(json.loads(body))
        except ValueError as exc:
            raise StepFailed(f"The report {uri} is not JSON: {exc}") from exc
        if not metrics:
            raise StepFailed(f"The report {uri} holds no numbers.")
        return metrics

    def destroy(self, ctx: StepContext) -> str:
        """Processing jobs cannot be deleted; stop one still running, leave its outputs."""
        name = ctx.previous.outputs.get("job_name") if ctx.previous else None
        if not name:
            return f"Nothing of step {ctx.step} was recorded, so nothing was removed."
        job = describe(self.client, name)
        if job is not None and job["ProcessingJobStatus"] == "InProgress":
            self.client.call("sagemaker", "StopProcessingJob", ProcessingJobName=name)
            return f"Stopped processing job {name}."
        return f"Processing job {name} stays in SageMaker's history (jobs cannot be deleted); its outputs stay in S3."

    def problems(self, name: str, step: ProcessingStep) -> list[Problem]:
        return instance_type_problems(name, step.instance.type, processing_types(), "run processing jobs")
