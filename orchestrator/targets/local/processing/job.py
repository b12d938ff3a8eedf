"""Local processing: the user's script under SageMaker Processing's contract, outputs to the local S3.

A job gets a folder standing for its container's `/opt/ml` under `<home>/jobs/<job_name>/`
(contract.py). Inputs are copied in as File mode does, the script (or its source_dir)
lands in the `code` input as the framework processor puts it, and the script runs with
this machine's Python through launch.py, which maps `/opt/ml` onto that folder. Each
output folder is then published to the local S3 under a content-addressed prefix
ending in `/`, the `${steps.X.outputs.<name>}` later steps read; a `report` file's
numbers become the step's metrics.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ....files import relative_files, tree_digest
from ....spec.processing import ProcessingStep, report_metrics
from ...base import StepContext, StepFailed, StepResult
from ..aws_env import local_aws_environment, without_aws
from ..daemon.client import DaemonClient, DaemonError
from ..handler import custom_image_refusal
from ..logbook import LogWriter, Redactor, log_file
from ..storage.client import LocalS3
from ..storage.layout import S3Layout
from ..training import running
from ..training.artifacts import ArtifactStore, artifact_bucket
from ..training.job import resolve_input, stop_leftover
from ..training.job_contract import job_name, stage_inputs
from ..training.script_runner import MetricParser, ScriptOutcome, run_script
from . import launch
from .contract import ProcessingFolder, container_path, job_config, write_configs

EXIT_MESSAGE_CHARS = 1024  # SageMaker keeps this much of /opt/ml/output/message as ExitMessage
LOCAL_IMAGE = "local/{framework}-processing:{version}"  # no container runs locally; the config says so


def run_processing(step: ProcessingStep, ctx: StepContext, home: Path) -> StepResult:
    """Run one processing step as a local job and publish its outputs; raise StepFailed on any failure."""
    if step.image:
        message, hint = custom_image_refusal(ctx.step, step.image)
        raise StepFailed(message, detail=hint)
    layout = S3Layout(home / "s3")
    sources = {name: resolve_input(name, source, ctx, layout) for name, source in step.inputs.items()}
    entry, code = _locate_code(step, ctx)
    name = job_name(ctx.pipeline.name, ctx.step, ctx.fingerprint)
    folder = ProcessingFolder(home / "jobs" / name)
    ctx.reporter.status("Starting")
    try:
        with DaemonClient(home).hold() as s3_url:
            return _process(step, ctx, home, name, folder, sources, entry, code, s3_url, layout)
    except DaemonError as exc:
        raise StepFailed("the local cloud (its S3) could not be started for the processing job", str(exc)) from exc


def _process(
    step: ProcessingStep,
    ctx: StepContext,
    home: Path,
    name: str,
    folder: ProcessingFolder,
    sources: dict[str, Path | str],
    entry: str,
    code: list[tuple[str, Path]],
    s3_url: str,
    layout: S3Layout,
) -> StepResult:
    pid_file = running.pid_file(folder.root.parent, name)
    stop_leftover(pid_file, name, ctx.reporter)
    folder.recreate(step.outputs)
    ctx.reporter.status("Downloading")
    stage_inputs(sources, folder, layout)
    _stage_code(code, folder)
    store = ArtifactStore(LocalS3(s3_url), *artifact_bucket(ctx.pipeline), home / "artifacts" / "tmp")
    published_under = f"s3://{store.bucket}/{store.key_for('', '').rstrip('/')}/"  # then sha256/<content>/<output>/
    image = LOCAL_IMAGE.format(framework=step.framework, version=step.framework_version or "default")
    inputs = {n: s if isinstance(s, str) else s.as_uri() for n, s in sources.items()}
    outputs = dict.fromkeys(step.outputs, published_under)
    config = job_config(step, name=name, region=ctx.pipeline.region, image=image, script=entry, inputs=inputs,
                        outputs=outputs)  # fmt: skip
    write_configs(folder, config)

    env = without_aws({k: v for k, v in os.environ.items() if not k.startswith("SM_")})
    env.update(local_aws_environment(s3_url, ctx.pipeline.region))
    env.update({"PYTHONUNBUFFERED": "1", launch.ROOT_VARIABLE: str(folder.root)})
    env.update(step.environment)  # the step's own settings win, as on SageMaker
    argv = [sys.executable, launch.__file__, container_path("processing", "input", "code", entry), *step.arguments]

    ctx.reporter.status("Processing")
    try:
        events = LogWriter(log_file(home, "processing", name), Redactor(step.environment.values()))
        outcome = run_script(argv, folder.code_dir, env, folder.log_file, step.max_runtime_s, MetricParser([]),
                             ctx.reporter, pid_file, events)  # fmt: skip
    finally:
        for staged in step.inputs:
            shutil.rmtree(folder.input_data_dir / staged, ignore_errors=True)
    log = _display_path(folder.log_file, ctx.project_dir)
    _raise_if_failed(outcome, step, folder, name, log)

    ctx.reporter.status("Uploading")
    published: dict[str, str] = {}
    store.s3.ensure_bucket(store.bucket)
    for output in step.outputs:
        files = relative_files(folder.output(output))
        if not files:
            ctx.reporter.warn(
                f"output {output} is empty: the script wrote nothing to {container_path('processing', 'output', output)}"
            )
        published[output] = store.put_files(folder.output(output), tree_digest(files), output)
    metrics = _report(step, folder)
    ctx.reporter.status("Completed")
    details: dict[str, Any] = {
        "duration_s": round(outcome.duration_s, 3),
        "log": log,
        "job_dir": _display_path(folder.root, ctx.project_dir),
    }
    shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items())
    message = f"processed in {outcome.duration_s:.1f} s" + (f"; {shown}" if shown else "")
    return StepResult(outputs={"job_name": name, **published}, metrics=metrics, message=message, details=details)


def _locate_code(step: ProcessingStep, ctx: StepContext) -> tuple[str, list[tuple[str, Path]]]:
    """The script's path inside the code input, and the files the code input holds."""
    assert step.entry_point is not None
    entry = ctx.path(step.entry_point)
    if not entry.is_file():
        raise StepFailed(
            f"entry_point {step.entry_point} does not exist",
            detail=f"Looked for {entry}. Paths in the spec are relative to the spec file.",
        )
    if not step.source_dir:
        return entry.name, [(entry.name, entry)]
    source = ctx.path(step.source_dir)
    if not source.is_dir() or not entry.is_relative_to(source):
        raise StepFailed(
            f"entry_point {step.entry_point} is not inside source_dir {step.source_dir}",
            detail="SageMaker ships only source_dir with the job; move the script into it or drop source_dir.",
        )
    return entry.relative_to(source).as_posix(), relative_files(source)


def _stage_code(code: list[tuple[str, Path]], folder: ProcessingFolder) -> None:
    for relative, path in code:
        target = folder.code_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _raise_if_failed(
    outcome: ScriptOutcome, step: ProcessingStep, folder: ProcessingFolder, name: str, log: str
) -> None:
    facts = {"job_name": name, "log": log, "exit_code": outcome.returncode, "duration_s": round(outcome.duration_s, 3)}
    if not outcome.timed_out and not outcome.returncode:
        return
    parts = []
    try:
        exit_message = (folder.root / "output" / "message").read_text(errors="replace")[:EXIT_MESSAGE_CHARS].strip()
    except OSError:
        exit_message = ""
    if exit_message:
        parts.append(f"Exit message (/opt/ml/output/message): {exit_message}")
    if outcome.stderr_tail:
        parts.append(
            f"Last {len(outcome.stderr_tail)} lines of stderr:\n"
            + "\n".join(f"  {line}" for line in outcome.stderr_tail)
        )
    parts.append(f"Full log: {log}")
    if outcome.timed_out:
        message = f"processing job {name} stopped after {step.max_runtime_s} s (max_runtime_s)"
    else:
        message = f"processing script exited with status {outcome.returncode}"
    raise StepFailed(message, detail="\n".join(parts), details=facts)


def _report(step: ProcessingStep, folder: ProcessingFolder) -> dict[str, float]:
    if step.report is None:
        return {}
    path = folder.output(step.report.output) / step.report.file
    where = container_path("processing", "output", step.report.output, step.report.file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StepFailed(f"the report {where} was not written", detail="write the evaluation there as JSON") from None
    except (OSError, ValueError) as exc:
        raise StepFailed(f"the report {where} is not JSON: {exc}") from exc
    metrics = report_metrics(data)
    if not metrics:
        raise StepFailed(f"the report {where} holds no numbers", detail='e.g. {"metrics": {"accuracy": 0.93}}')
    return metrics


def _display_path(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
