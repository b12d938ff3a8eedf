"""Local training under SageMaker's training contract, so the user's script runs unchanged.

A job gets a folder shaped like a training container's `/opt/ml` under
`<home>/jobs/<job_name>/` (see job_contract.py). The script, or a built-in
algorithm's local stand-in, runs with this machine's Python in its own process
group (script_runner.py), with the local S3 at AWS_ENDPOINT_URL_S3 (the local cloud
is held up while it runs). Its `model/` folder is packed deterministically into the
content-addressed artifact store in the local S3, where later steps find the model
(an s3:// URI, as on AWS); what it wrote to `output/data/` becomes the step's
`data` output, an s3:// prefix ending in `/`.
"""

from __future__ import annotations

import importlib.util
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....spec.models import TrainingStep
from ...base import Reporter, StepContext, StepFailed, StepResult
from ..aws_env import local_aws_environment, without_aws
from ..daemon.client import DaemonClient, DaemonError
from ..handler import custom_image_refusal
from ..logbook import LogWriter, Redactor, log_file
from ..storage.client import LocalS3
from ..storage.layout import S3Layout, split_s3_uri
from . import running
from .artifacts import ArtifactStore, StoredArtifact, artifact_bucket, folder_is_empty
from .job_contract import (
    HOST,
    JobFolder,
    Script,
    command_line_arguments,
    contract_environment,
    encode_hyperparameters,
    job_name,
    stage_inputs,
    write_config,
)
from .script_runner import MetricParser, ScriptOutcome, run_script

FAILURE_REASON_CHARS = 1024  # SageMaker keeps this much of output/failure as FailureReason
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
FRAMEWORK_MODULES = {"sklearn": "sklearn", "xgboost": "xgboost", "pytorch": "torch", "tensorflow": "tensorflow"}


def run_training(step: TrainingStep, ctx: StepContext, home: Path) -> StepResult:
    """Run one training step as a local job and store its model; raise StepFailed on any failure."""
    if step.image:
        message, hint = custom_image_refusal(ctx.step, step.image)
        raise StepFailed(message, detail=hint)
    layout = S3Layout(home / "s3")
    sources = {channel: resolve_input(channel, source, ctx, layout) for channel, source in step.inputs.items()}
    metrics = MetricParser(step.metrics)
    _warn_about_local_differences(step, ctx.reporter)

    name = job_name(ctx.pipeline.name, ctx.step, ctx.fingerprint)
    job = JobFolder(home / "jobs" / name)
    script = _builtin(step, job) if step.algorithm else _locate_script(step, ctx)
    ctx.reporter.status("Starting")
    try:
        with DaemonClient(home).hold() as s3_url:
            return _train(step, ctx, home, Job(name, job, script, sources, metrics), s3_url, layout)
    except DaemonError as exc:
        raise StepFailed("the local cloud (its S3) could not be started for the training job", str(exc)) from exc


@dataclass(frozen=True)
class Job:
    name: str
    folder: JobFolder
    script: Script
    sources: dict[str, Path | str]
    metrics: MetricParser


def _train(step: TrainingStep, ctx: StepContext, home: Path, run: Job, s3_url: str, layout: S3Layout) -> StepResult:
    name, job, script, metrics = run.name, run.folder, run.script, run.metrics
    pid_file = running.pid_file(job.root.parent, name)
    stop_leftover(pid_file, name, ctx.reporter)
    job.recreate()
    ctx.reporter.status("Downloading")
    channels = stage_inputs(run.sources, job, layout)
    hyperparameters = encode_hyperparameters(step.hyperparameters)
    write_config(job, channels, hyperparameters, step)
    # Built-in algorithms read hyperparameters.json; script mode also gets them as arguments.
    arguments = [] if step.algorithm else command_line_arguments(hyperparameters)
    argv = [sys.executable, *script.command, *arguments]
    env = without_aws(contract_environment(job, name, channels, hyperparameters, script, step))
    env.update(local_aws_environment(s3_url, ctx.pipeline.region))
    env.update(step.environment)  # the step's own settings win, as on SageMaker

    ctx.reporter.status("Training")
    try:
        events = LogWriter(log_file(home, "training", name), Redactor(step.environment.values()))
        outcome = run_script(
            argv, script.source_dir, env, job.log_file, step.max_runtime_s, metrics, ctx.reporter, pid_file, events
        )
    finally:
        job.drop_input_copies()
    log = _display_path(job.log_file, ctx.project_dir)
    _raise_if_failed(outcome, step, job, name, log)

    ctx.reporter.status("Uploading")
    store = ArtifactStore(LocalS3(s3_url), *artifact_bucket(ctx.pipeline), home / "artifacts" / "tmp")
    model = _store_folder(store, job.model_dir, "model.tar.gz")
    outputs = {"model": model.uri, "job_name": name}
    details: dict[str, Any] = {
        "artifact_sha256": model.digest,
        "duration_s": round(outcome.duration_s, 3),
        "log": log,
        "job_dir": _display_path(job.root, ctx.project_dir),
    }
    if not folder_is_empty(job.output_data_dir):
        output = _store_folder(store, job.output_data_dir, "output.tar.gz")
        outputs["data"] = store.put_files(job.output_data_dir, output.digest, "data")
        details["output_sha256"] = output.digest
    for metric in metrics.missing():
        ctx.reporter.warn(f"metric {metric.name} never matched the training log (regex {metric.regex!r})")
    ctx.reporter.status("Completed")
    return StepResult(
        outputs=outputs,
        metrics=metrics.results(),
        message=_summary(outcome.duration_s, metrics.results()),
        details=details,
    )


def stop_leftover(pid_file: Path, name: str, reporter: Reporter) -> None:
    """A job of this name still running (its command died and it did not follow) is stopped
    before the new attempt starts in a clean folder: one model, one process."""
    stopped = running.stop(pid_file)
    if stopped is not None:
        reporter.warn(f"stopped job {name} (process group {stopped}), left running by an earlier run")


# --- checks before anything is written ---------------------------------------------------


def _builtin(step: TrainingStep, job: JobFolder) -> Script:
    """A built-in algorithm runs as its local stand-in program, under the same contract."""
    from ..algorithms import train_module

    module = train_module(step.algorithm)
    package_root = Path(__file__).resolve().parents[4]  # the folder holding the orchestrator package
    return Script(
        command=("-m", module),
        source_dir=job.root,
        module_name=module,
        user_entry_point=module,
        python_path=(package_root,),
    )


def _locate_script(step: TrainingStep, ctx: StepContext) -> Script:
    assert step.entry_point is not None
    entry_point = ctx.path(step.entry_point)
    if not entry_point.is_file():
        raise StepFailed(
            f"entry_point {step.entry_point} does not exist",
            detail=f"Looked for {entry_point}. Paths in the spec are relative to the spec file.",
        )
    source_dir = ctx.path(step.source_dir) if step.source_dir else entry_point.parent
    if not source_dir.is_dir():
        raise StepFailed(
            f"source_dir {step.source_dir} is not a folder",
            detail=f"Looked for {source_dir}. Paths in the spec are relative to the spec file.",
        )
    if not entry_point.is_relative_to(source_dir):
        raise StepFailed(
            f"entry_point {step.entry_point} is not inside source_dir {step.source_dir}",
            detail="SageMaker ships only source_dir with the job; move the script into it or drop source_dir.",
        )
    return Script(
        command=(str(entry_point),),
        source_dir=source_dir,
        module_name=entry_point.stem,
        user_entry_point=str(entry_point.relative_to(source_dir)),
    )


def resolve_input(channel: str, source: str, ctx: StepContext, layout: S3Layout) -> Path | str:
    if not CHANNEL_NAME.match(channel):
        raise StepFailed(
            f"input channel name '{channel}' is not valid",
            detail="Channel names use letters, digits, '.', '-' and '_'.",
        )
    if source.startswith("s3://"):
        bucket, prefix = split_s3_uri(source)
        if not layout.listing(bucket, prefix):
            raise StepFailed(
                f"input channel '{channel}': no object in the local S3 at {source}", detail=missing_object_hint(source)
            )
        return source
    path = ctx.path(source.removeprefix("file://"))
    if not path.exists():
        raise StepFailed(
            f"input channel '{channel}': {source} does not exist",
            detail=f"Looked for {path}. Paths in the spec are relative to the spec file.",
        )
    return path


def _warn_about_local_differences(step: TrainingStep, reporter: Reporter) -> None:
    if step.instance.count > 1:
        reporter.warn(f"instance.count is {step.instance.count}: the local target trains on one host ({HOST})")
    module = FRAMEWORK_MODULES.get(step.framework or "")
    if module and importlib.util.find_spec(module) is None:
        reporter.warn(
            f"framework {step.framework}: '{module}' is not installed in {sys.executable}; "
            "the script runs with this Python, not a framework container"
        )


# --- results ------------------------------------------------------------------------------


def _raise_if_failed(outcome: ScriptOutcome, step: TrainingStep, job: JobFolder, name: str, log: str) -> None:
    facts = {"job_name": name, "log": log, "exit_code": outcome.returncode, "duration_s": round(outcome.duration_s, 3)}
    if outcome.timed_out:
        raise StepFailed(
            f"training job {name} stopped after {step.max_runtime_s} s (max_runtime_s)",
            detail=_failure_detail(job, outcome, log),
            details=facts,
        )
    if outcome.returncode:
        raise StepFailed(
            f"training script {_exit_description(outcome.returncode)}",
            detail=_failure_detail(job, outcome, log),
            details=facts,
        )
    if folder_is_empty(job.model_dir):
        raise StepFailed(
            "the script wrote nothing to SM_MODEL_DIR",
            detail=f"Save the model under os.environ['SM_MODEL_DIR'] ({job.model_dir}); "
            f"only that folder becomes model.tar.gz.\nFull log: {log}",
            details=facts,
        )


def _exit_description(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _failure_detail(job: JobFolder, outcome: ScriptOutcome, log: str) -> str:
    parts = []
    try:
        reason = job.failure_file.read_text(encoding="utf-8", errors="replace")[:FAILURE_REASON_CHARS].strip()
    except OSError:
        reason = ""
    if reason:
        parts.append(f"Failure reason (output/failure): {reason}")
    if outcome.stderr_tail:
        lines = "\n".join(f"  {line}" for line in outcome.stderr_tail)
        parts.append(f"Last {len(outcome.stderr_tail)} lines of stderr:\n{lines}")
    parts.append(f"Full log: {log}")
    return "\n".join(parts)


def missing_object_hint(uri: str) -> str:
    return (
        f"Hint: put the data there first (boto3 or `aws s3 cp --endpoint-url <the local S3's URL> FILE {uri}`), "
        "or name a file beside the spec instead; a step's own outputs are there once it ran."
    )


def _store_folder(store: ArtifactStore, folder: Path, filename: str) -> StoredArtifact:
    try:
        return store.put_folder(folder, filename)
    except (OSError, ValueError) as exc:
        raise StepFailed(f"could not pack {folder.name}/ into {filename}: {exc}") from exc


def _display_path(path: Path, base: Path) -> str:
    """Relative to the project when possible: that is where the user's shell is."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _summary(duration_s: float, metrics: dict[str, float]) -> str:
    took = f"{duration_s:.1f} s" if duration_s < 60 else f"{int(duration_s // 60)} min {int(duration_s % 60)} s"
    shown = ", ".join(f"{name}={value:.4g}" for name, value in metrics.items())
    return f"trained in {took}; {shown}" if shown else f"trained in {took}"
