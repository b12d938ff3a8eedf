"""Local training under SageMaker's training contract, so the user's script runs unchanged.

A job gets a folder shaped like a training container's `/opt/ml` under
`<home>/jobs/<job_name>/`: the same config files, channel folders, environment
variables and `--name value` arguments a SageMaker framework container gives the
script. The script runs with this machine's Python as a subprocess in its own
process group, so a timeout or Ctrl-C can stop it and everything it started.
Its `model/` folder is packed deterministically into the content-addressed
artifact store, which is where later steps find the model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ...spec.models import Metric, TrainingStep
from ..base import Reporter, StepContext, StepFailed, StepResult
from .artifacts import ArtifactStore, StoredArtifact, folder_is_empty

HOST = "algo-1"
NETWORK_INTERFACE = "eth0"
FAILURE_REASON_CHARS = 1024  # SageMaker keeps this much of output/failure as FailureReason
STDERR_TAIL_LINES = 20
STOP_GRACE_S = 2.0  # between SIGTERM and SIGKILL when a job is stopped
EXIT_DRAIN_S = 1.0  # how long to keep reading after the script exits (grandchildren may hold the pipes)
JOB_NAME_MAX = 63
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
FRAMEWORK_MODULES = {"sklearn": "sklearn", "xgboost": "xgboost", "pytorch": "torch", "tensorflow": "tensorflow"}


def run_training(step: TrainingStep, ctx: StepContext, home: Path) -> StepResult:
    """Run one training step as a local job and store its model; raise StepFailed on any failure."""
    _refuse_unsupported(step)
    script = _locate_script(step, ctx)
    sources = {channel: _resolve_input(channel, source, ctx) for channel, source in step.inputs.items()}
    metrics = MetricParser(step.metrics)
    _warn_about_local_differences(step, ctx.reporter)

    name = job_name(ctx.pipeline.name, ctx.step, ctx.fingerprint)
    job = JobFolder(home / "jobs" / name)
    ctx.reporter.status("Starting")
    job.recreate()
    ctx.reporter.status("Downloading")
    channels = _stage_inputs(sources, job)
    hyperparameters = encode_hyperparameters(step.hyperparameters)
    _write_config(job, channels, hyperparameters, step)
    argv = [sys.executable, str(script.entry_point), *command_line_arguments(hyperparameters)]
    env = _contract_environment(job, name, channels, hyperparameters, script, step)

    ctx.reporter.status("Training")
    try:
        outcome = run_script(argv, script.source_dir, env, job.log_file, step.max_runtime_s, metrics, ctx.reporter)
    finally:
        job.drop_input_copies()
    log = _display_path(job.log_file, ctx.project_dir)
    _raise_if_failed(outcome, step, job, name, log)

    ctx.reporter.status("Uploading")
    store = ArtifactStore(home / "artifacts")
    model = _store_folder(store, job.model_dir, "model.tar.gz")
    details: dict[str, Any] = {
        "artifact_sha256": model.digest,
        "duration_s": round(outcome.duration_s, 3),
        "log": log,
        "job_dir": _display_path(job.root, ctx.project_dir),
    }
    if not folder_is_empty(job.output_data_dir):
        output = _store_folder(store, job.output_data_dir, "output.tar.gz")
        details["output_data"] = output.uri
        details["output_sha256"] = output.digest
    for metric in metrics.missing():
        ctx.reporter.warn(f"metric {metric.name} never matched the training log (regex {metric.regex!r})")
    ctx.reporter.status("Completed")
    return StepResult(
        outputs={"model": model.uri, "job_name": name},
        metrics=metrics.results(),
        message=_summary(outcome.duration_s, metrics.results()),
        details=details,
    )


# --- naming and layout -------------------------------------------------------------------


def job_name(pipeline: str, step: str, fingerprint: str) -> str:
    """A valid SageMaker job name (1-63 of [a-zA-Z0-9-]) that changes exactly when the step does."""
    suffix = re.sub(r"[^a-zA-Z0-9]", "", fingerprint)[:12]
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", f"{pipeline}-{step}").strip("-")
    if not suffix:
        return stem[:JOB_NAME_MAX].rstrip("-") or "job"
    stem = stem[: JOB_NAME_MAX - len(suffix) - 1].rstrip("-")
    return f"{stem}-{suffix}" if stem else suffix


@dataclass(frozen=True)
class JobFolder:
    """One job's `/opt/ml`, plus the log the local target keeps beside it."""

    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def input_config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def input_data_dir(self) -> Path:
        return self.input_dir / "data"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def output_intermediate_dir(self) -> Path:
        return self.output_dir / "intermediate"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def log_file(self) -> Path:
        return self.root / "training.log"

    def recreate(self) -> None:
        """Start from an empty folder: a rerun of the same job must not see the last run's files."""
        try:
            if self.root.exists():
                shutil.rmtree(self.root)
            for folder in (self.input_config_dir, self.input_data_dir, self.model_dir,
                           self.output_data_dir, self.output_intermediate_dir):
                folder.mkdir(parents=True)
        except OSError as exc:
            raise StepFailed(f"could not prepare the job folder {self.root}: {exc}") from exc

    def drop_input_copies(self) -> None:
        """The channel copies are only for the script; the originals stay where the spec points."""
        for channel in self.input_data_dir.iterdir() if self.input_data_dir.is_dir() else ():
            shutil.rmtree(channel, ignore_errors=True)


# --- checks before anything is written ---------------------------------------------------


def _refuse_unsupported(step: TrainingStep) -> None:
    hint = "Use script mode (framework + entry_point) locally, or run this pipeline with target: aws."
    if step.algorithm:
        raise StepFailed(f"built-in algorithm '{step.algorithm}' is not supported on the local target yet", detail=hint)
    if step.image:
        raise StepFailed(f"training image '{step.image}' is not supported on the local target yet", detail=hint)
    if not step.entry_point:
        raise StepFailed("a training step needs an entry_point on the local target", detail=hint)


@dataclass(frozen=True)
class Script:
    entry_point: Path
    source_dir: Path


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
    return Script(entry_point, source_dir)


def _resolve_input(channel: str, source: str, ctx: StepContext) -> Path:
    if not CHANNEL_NAME.match(channel):
        raise StepFailed(
            f"input channel name '{channel}' is not valid",
            detail="Channel names use letters, digits, '.', '-' and '_'.",
        )
    if source.startswith("s3://"):
        raise StepFailed(
            f"input channel '{channel}' reads {source}, but s3:// inputs are not reachable on the local target",
            detail=f"Hint: download it (aws s3 cp --recursive {source} data/{channel}/) and set "
            f"inputs.{channel} to the local copy, or run this pipeline with target: aws.",
        )
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
        reporter.warn(f"framework {step.framework}: '{module}' is not installed in {sys.executable}; "
                      "the script runs with this Python, not a framework container")


# --- the contract: files, environment, arguments ------------------------------------------


def _stage_inputs(sources: dict[str, Path], job: JobFolder) -> dict[str, Path]:
    """Copy each channel in, as SageMaker's File mode does (a file lands under its own name)."""
    channels: dict[str, Path] = {}
    for channel, source in sources.items():
        target = job.input_data_dir / channel
        try:
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                target.mkdir(parents=True)
                shutil.copy2(source, target / source.name)
        except OSError as exc:
            raise StepFailed(f"could not copy input channel '{channel}' from {source}: {exc}") from exc
        channels[channel] = target
    return channels


def encode_hyperparameters(hyperparameters: dict[str, Any]) -> dict[str, str]:
    """As the SageMaker SDK sends them for script mode: every value a JSON-encoded string."""
    return {name: json.dumps(value) for name, value in hyperparameters.items()}


def decode_hyperparameter(encoded: str) -> Any:
    try:
        return json.loads(encoded)
    except json.JSONDecodeError:
        return encoded


def command_line_arguments(encoded: dict[str, str]) -> list[str]:
    """`--name value` pairs in name order (`-n value` for one-letter names), as the training toolkit builds them."""
    arguments: list[str] = []
    for name in sorted(encoded):
        value = decode_hyperparameter(encoded[name])
        arguments += [f"--{name}" if len(name) > 1 else f"-{name}", str(value)]
    return arguments


def _env_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _input_data_config(channels: dict[str, Path]) -> dict[str, Any]:
    return {
        channel: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
        for channel in channels
    }


def _resource_config(step: TrainingStep) -> dict[str, Any]:
    return {
        "current_host": HOST,
        "current_instance_type": step.instance.type,
        "current_group_name": "homogeneousCluster",
        "hosts": [HOST],
        "instance_groups": [
            {"instance_group_name": "homogeneousCluster", "instance_type": step.instance.type, "hosts": [HOST]}
        ],
        "network_interface_name": NETWORK_INTERFACE,
    }


def _write_config(
    job: JobFolder, channels: dict[str, Path], hyperparameters: dict[str, str], step: TrainingStep
) -> None:
    files = {
        "hyperparameters.json": hyperparameters,
        "inputdataconfig.json": _input_data_config(channels),
        "resourceconfig.json": _resource_config(step),
    }
    for filename, content in files.items():
        (job.input_config_dir / filename).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


def _contract_environment(
    job: JobFolder,
    name: str,
    channels: dict[str, Path],
    hyperparameters: dict[str, str],
    script: Script,
    step: TrainingStep,
) -> dict[str, str]:
    """This process's environment without stray SM_ variables, plus the container's, plus the step's own."""
    decoded = {hp: decode_hyperparameter(value) for hp, value in hyperparameters.items()}
    user_args = command_line_arguments(hyperparameters)
    num_cpus = os.cpu_count() or 1
    training_env = {
        "job_name": name,
        "hosts": [HOST],
        "current_host": HOST,
        "num_cpus": num_cpus,
        "num_gpus": 0,
        "model_dir": str(job.model_dir),
        "input_dir": str(job.input_dir),
        "input_config_dir": str(job.input_config_dir),
        "output_dir": str(job.output_dir),
        "output_data_dir": str(job.output_data_dir),
        "output_intermediate_dir": str(job.output_intermediate_dir),
        "channel_input_dirs": {channel: str(path) for channel, path in channels.items()},
        "hyperparameters": decoded,
        "input_data_config": _input_data_config(channels),
        "resource_config": _resource_config(step),
        "module_dir": str(script.source_dir),
        "module_name": script.entry_point.stem,
        "user_entry_point": str(script.entry_point.relative_to(script.source_dir)),
        "network_interface_name": NETWORK_INTERFACE,
        "log_level": 20,
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("SM_") and key != "TRAINING_JOB_NAME"}
    python_path = [str(script.source_dir), env.get("PYTHONPATH", "")]
    env.update(
        {
            "PYTHONUNBUFFERED": "1",  # lines must reach the log as they are printed
            "PYTHONPATH": os.pathsep.join(part for part in python_path if part),
            "TRAINING_JOB_NAME": name,
            "SM_TRAINING_ENV": json.dumps(training_env, sort_keys=True),
            "SM_USER_ARGS": json.dumps(user_args),
            "SM_HPS": json.dumps(decoded, sort_keys=True),
            "SM_CHANNELS": json.dumps(sorted(channels)),
            "SM_HOSTS": json.dumps([HOST]),
        }
    )
    for key in ("model_dir", "input_dir", "input_config_dir", "output_dir", "output_data_dir",
                "output_intermediate_dir", "current_host", "num_cpus", "num_gpus", "module_dir",
                "module_name", "user_entry_point", "network_interface_name", "log_level",
                "input_data_config", "resource_config"):
        env[f"SM_{key.upper()}"] = _env_value(training_env[key])
    for channel, path in channels.items():
        env[f"SM_CHANNEL_{channel.upper()}"] = str(path)
    for hp, value in decoded.items():
        env[f"SM_HP_{hp.upper()}"] = _env_value(value)
    env.update(step.environment)
    return env


# --- running the script ------------------------------------------------------------------


class MetricParser:
    """Applies the step's metric regexes to each log line; the last value of each wins."""

    def __init__(self, metrics: list[Metric]):
        self.metrics = metrics
        self.values: dict[str, float] = {}
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for metric in metrics:
            try:
                self._patterns.append((metric.name, re.compile(metric.regex)))
            except re.error as exc:
                raise StepFailed(f"metric {metric.name}: regex {metric.regex!r} is not valid: {exc}") from exc

    def feed(self, line: str) -> None:
        for name, pattern in self._patterns:
            for match in pattern.finditer(line):
                text = match.group(1) if pattern.groups else match.group(0)
                try:
                    self.values[name] = float(text)
                except (TypeError, ValueError):
                    continue

    def results(self) -> dict[str, float]:
        """The values found, in the spec's order (lines from stdout and stderr may interleave)."""
        return {metric.name: self.values[metric.name] for metric in self.metrics if metric.name in self.values}

    def missing(self) -> list[Metric]:
        return [metric for metric in self.metrics if metric.name not in self.values]


@dataclass
class ScriptOutcome:
    returncode: int | None
    duration_s: float
    timed_out: bool = False
    stderr_tail: list[str] = field(default_factory=list)


def run_script(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    log_file: Path,
    max_runtime_s: float,
    metrics: MetricParser,
    reporter: Reporter,
) -> ScriptOutcome:
    """Run the script, streaming its lines to the reporter, the log file and the metric parser."""
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise StepFailed(f"could not start the training script: {exc}") from exc
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", lines), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", lines), daemon=True),
    ]
    for reader in readers:
        reader.start()
    outcome = ScriptOutcome(returncode=None, duration_s=0.0)
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    deadline = started + max_runtime_s
    try:
        with log_file.open("w", encoding="utf-8") as log:
            _follow(process, lines, log, tail, deadline, outcome, metrics, reporter)
        outcome.returncode = _wait(process, deadline, outcome)
    except BaseException:  # Ctrl-C, or a reporter that raised: the job must not outlive us
        _stop(process)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=1.0)
    _kill_group(process, signal.SIGKILL)  # whatever the script left running, as a container's end would
    outcome.duration_s = time.monotonic() - started
    outcome.stderr_tail = list(tail)
    return outcome


def _follow(
    process: subprocess.Popen[bytes],
    lines: queue.Queue[tuple[str, str | None]],
    log: IO[str],
    tail: deque[str],
    deadline: float,
    outcome: ScriptOutcome,
    metrics: MetricParser,
    reporter: Reporter,
) -> None:
    open_streams = 2
    exited_at: float | None = None
    while open_streams:
        now = time.monotonic()
        if not outcome.timed_out and now >= deadline:
            outcome.timed_out = True
            _stop(process)
        try:
            stream, line = lines.get(timeout=0.1)
        except queue.Empty:
            if exited_at is None and process.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > EXIT_DRAIN_S:
                return
            continue
        if line is None:
            open_streams -= 1
            continue
        log.write(f"{line}\n")
        log.flush()
        if stream == "stderr":
            tail.append(line)
        metrics.feed(line)
        reporter.log(line)


def _wait(process: subprocess.Popen[bytes], deadline: float, outcome: ScriptOutcome) -> int:
    """The exit status, even for a script that closed its output early and kept running."""
    try:
        return process.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        outcome.timed_out = True
        _stop(process)
        return process.wait()


def _pump(pipe: IO[bytes], stream: str, sink: queue.Queue[tuple[str, str | None]]) -> None:
    with pipe:
        for raw in iter(pipe.readline, b""):
            sink.put((stream, raw.decode("utf-8", errors="replace").rstrip("\r\n")))
    sink.put((stream, None))


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the job's process group, as SageMaker's StopTrainingJob does; SIGKILL what lingers."""
    _kill_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(process, signal.SIGKILL)
    process.wait()


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


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
