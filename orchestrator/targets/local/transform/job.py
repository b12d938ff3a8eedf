"""A local batch transform job: the model served as an endpoint's container would serve it,
fed every object under the step's input, each answer stored as `<input file>.out`.

The job gets a folder `<home>/jobs/<job name>/` (model/, output/, config.json, the log).
The model is unpacked as an endpoint unpacks it (serving/group.py) and runs in a process of
its own, with an endpoint's environment (runner.py). Its outputs go to the local S3 under
`<artifact prefix>/transforms/<step>/<job name>/`, the aws target's shape, which becomes the
step's `data` output; they are uploaded only when every object was transformed.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ....spec.transform import TransformStep
from ...base import StepContext, StepFailed, StepResult
from ..daemon.client import DaemonClient, DaemonError
from ..daemon.protocol import EndpointRequest
from ..handler import custom_image_refusal
from ..serving.group import endpoint_environment, prepare_model
from ..serving.handler import model_uri
from ..serving.inference import ModelLoadError
from ..storage.client import LocalS3
from ..storage.layout import S3Layout, s3_uri, split_s3_uri
from ..training.artifacts import artifact_bucket
from ..training.job_contract import job_name
from ..training.script_runner import MetricParser, run_script

RUNNER = "orchestrator.targets.local.transform.runner"
MAX_RUNTIME_S = 86400.0  # a job runs until it is done; a day stands for "stuck"


@dataclass(frozen=True)
class InputObject:
    key: str  # relative name: the output is `<key>.out`
    source: Path  # the object's bytes, read in place


def run_transform(step: TransformStep, ctx: StepContext, home: Path) -> StepResult:
    """Transform every input object, store the answers; raise StepFailed on any failure."""
    if step.image:
        message, hint = custom_image_refusal(ctx.step, step.image)
        raise StepFailed(message, detail=hint)
    layout = S3Layout(home / "s3")
    objects = input_objects(step.input, ctx, layout)
    model = model_uri(step.model, ctx.project_dir, layout)
    inference = ctx.path(step.inference) if step.inference else None
    if inference is not None and not inference.is_file():
        raise StepFailed(f"inference module not found: {step.inference}", f"looked for {inference}")
    if step.instance.count > 1:
        ctx.reporter.warn(f"instance.count is {step.instance.count}: the local target transforms on one host")
    name = job_name(ctx.pipeline.name, ctx.step, ctx.fingerprint)
    root = home / "jobs" / name
    shutil.rmtree(root, ignore_errors=True)  # a rerun never sees an earlier attempt's answers
    (root / "output").mkdir(parents=True)
    request = EndpointRequest(
        model, str(inference) if inference else None, dict(step.environment), step.framework, region=ctx.pipeline.region
    )
    try:
        model_dir, handler = prepare_model(request, _model_file(model, layout), root / "model")
    except ModelLoadError as exc:
        raise StepFailed(f"transform job {name}: {exc}") from exc
    try:
        with DaemonClient(home).hold() as s3_url:
            return _transform(step, ctx, Job(name, root, model_dir, handler, objects, request), s3_url)
    except DaemonError as exc:
        raise StepFailed("the local cloud (its S3) could not be started for the transform job", str(exc)) from exc


@dataclass(frozen=True)
class Job:
    name: str
    root: Path
    model_dir: Path
    handler: Path | None
    objects: list[InputObject]
    request: EndpointRequest


def _transform(step: TransformStep, ctx: StepContext, job: Job, s3_url: str) -> StepResult:
    output = job.root / "output"
    config = {
        "model_dir": str(job.model_dir),
        "inference": str(job.handler) if job.handler else None,
        "framework": step.framework,
        "content_type": step.content_type,
        "accept": step.accept,
        "split_type": step.split_type,
        "strategy": step.strategy,
        "max_payload_mb": step.max_payload_mb,
        "assemble_with": step.assemble_with,
        "objects": [
            {"key": o.key, "source": str(o.source), "target": str(output / f"{o.key}.out")} for o in job.objects
        ],
    }
    config_file = job.root / "config.json"
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
    env = endpoint_environment(job.request, job.name, 8080, 1, s3_url, job.handler)
    env["SAGEMAKER_BATCH"] = "true"  # as the batch transform container is told
    ctx.reporter.status("InProgress")
    outcome = run_script(
        [sys.executable, "-m", RUNNER, str(config_file)],
        job.model_dir,
        env,
        job.root / "transform.log",
        MAX_RUNTIME_S,
        MetricParser([]),
        ctx.reporter,
    )
    if outcome.returncode:
        reason = "\n".join(outcome.stderr_tail[-5:]) or f"the model server exited with status {outcome.returncode}"
        raise StepFailed(
            f"transform job {job.name} failed: {outcome.stderr_tail[-1] if outcome.stderr_tail else reason}",
            detail=f"{reason}\nFull log: {job.root / 'transform.log'}",
            details={"job_name": job.name},
        )
    ctx.reporter.status("Uploading")
    bucket, prefix = artifact_bucket(ctx.pipeline)
    key_prefix = "/".join(p for p in (prefix, "transforms", ctx.step, job.name) if p) + "/"
    s3 = LocalS3(s3_url)
    s3.ensure_bucket(bucket)
    for item in job.objects:
        s3.put_file(
            bucket, f"{key_prefix}{item.key}.out", output / f"{item.key}.out", step.accept or "application/octet-stream"
        )
    ctx.reporter.status("Completed")
    count = len(job.objects)
    return StepResult(
        outputs={"data": s3_uri(bucket, key_prefix), "job_name": job.name},
        message=f"transformed {count} object{'s' if count != 1 else ''} with job {job.name}",
        details={"objects": count, "duration_s": round(outcome.duration_s, 3), "log": str(job.root / "transform.log")},
    )


def input_objects(source: str, ctx: StepContext, layout: S3Layout) -> list[InputObject]:
    """The objects a transform reads: under an s3:// prefix of the local S3, or a file or folder beside the spec.

    As SageMaker names outputs, each keeps its key below the prefix's folder.
    """
    if source.startswith("s3://"):
        bucket, prefix = split_s3_uri(source)
        folder = prefix[: prefix.rfind("/") + 1]
        found = []
        for meta in layout.listing(bucket, prefix):
            data = layout.object_file(bucket, meta["key"])
            if data is not None and not meta["key"].endswith("/"):
                found.append(InputObject(meta["key"][len(folder) :], data))
        if not found:
            raise StepFailed(
                f"no object in the local S3 at {source}",
                "put the data there first, or name a step's output (e.g. ${steps.prepare.outputs.test})",
            )
        return found
    path = ctx.path(source.removeprefix("file://"))
    if path.is_file():
        return [InputObject(path.name, path)]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if files:
            return [InputObject(p.relative_to(path).as_posix(), p) for p in files]
    raise StepFailed(f"transform input {source} has no file to transform", f"looked in {path}")


def _model_file(uri: str, layout: S3Layout) -> str:
    if uri.startswith("s3://"):
        bucket, key = split_s3_uri(uri)
        data = layout.object_file(bucket, key)
        if data is None:
            raise StepFailed(f"the model {uri} is not in the local S3")
        return str(data)
    return uri
