"""The training container's contract: the `/opt/ml` folder, config files, environment and arguments.

Everything here mirrors what a SageMaker framework container gives a script, so
a script written for SageMaker finds its channels, hyperparameters and model
folder exactly where it expects them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....spec.models import TrainingStep
from ...base import StepFailed
from ..storage.layout import S3Layout, split_s3_uri

HOST = "algo-1"
NETWORK_INTERFACE = "eth0"
JOB_NAME_MAX = 63


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
            for folder in (
                self.input_config_dir,
                self.input_data_dir,
                self.model_dir,
                self.output_data_dir,
                self.output_intermediate_dir,
            ):
                folder.mkdir(parents=True)
        except OSError as exc:
            raise StepFailed(f"could not prepare the job folder {self.root}: {exc}") from exc

    def drop_input_copies(self) -> None:
        """The channel copies are only for the script; the originals stay where the spec points."""
        for channel in self.input_data_dir.iterdir() if self.input_data_dir.is_dir() else ():
            shutil.rmtree(channel, ignore_errors=True)


@dataclass(frozen=True)
class Script:
    """What the container runs: the user's entry point, or a built-in algorithm's program."""

    command: tuple[str, ...]  # after the interpreter: (entry_point,) or ("-m", module)
    source_dir: Path  # the working directory, first on PYTHONPATH
    module_name: str
    user_entry_point: str
    python_path: tuple[Path, ...] = ()  # after source_dir: e.g. where the built-in stand-ins live


def stage_inputs(sources: dict[str, Path | str], job: JobFolder, layout: S3Layout) -> dict[str, Path]:
    """Copy each channel in, as SageMaker's File mode does (a file lands under its own name).

    An s3:// source is an S3 prefix, as SageMaker reads one: every object under it,
    named by what follows the prefix's last `/`, read from the local S3's files.
    """
    channels: dict[str, Path] = {}
    for channel, source in sources.items():
        target = job.input_data_dir / channel
        try:
            if isinstance(source, str):
                _download(layout, source, target)
            elif source.is_dir():
                shutil.copytree(source, target)
            else:
                target.mkdir(parents=True)
                shutil.copy2(source, target / source.name)
        except OSError as exc:
            raise StepFailed(f"could not copy input channel '{channel}' from {source}: {exc}") from exc
        channels[channel] = target
    return channels


def _download(layout: S3Layout, uri: str, target: Path) -> None:
    bucket, prefix = split_s3_uri(uri)
    base = prefix[: prefix.rfind("/") + 1]
    target.mkdir(parents=True)
    for meta in layout.listing(bucket, prefix):
        relative = meta["key"][len(base) :]
        parts = [p for p in relative.split("/") if p not in ("", ".", "..")]
        if not parts:
            continue  # a "folder" marker object
        destination = target.joinpath(*parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        source = layout.object_file(bucket, meta["key"])
        if source is not None:
            shutil.copyfile(source, destination)


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


def write_config(
    job: JobFolder, channels: dict[str, Path], hyperparameters: dict[str, str], step: TrainingStep
) -> None:
    files = {
        "hyperparameters.json": hyperparameters,
        "inputdataconfig.json": _input_data_config(channels),
        "resourceconfig.json": _resource_config(step),
    }
    for filename, content in files.items():
        (job.input_config_dir / filename).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


def contract_environment(
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
        "module_name": script.module_name,
        "user_entry_point": script.user_entry_point,
        "network_interface_name": NETWORK_INTERFACE,
        "log_level": 20,
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("SM_") and key != "TRAINING_JOB_NAME"}
    python_path = [str(script.source_dir), *map(str, script.python_path), env.get("PYTHONPATH", "")]
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
    for key in (
        "model_dir",
        "input_dir",
        "input_config_dir",
        "output_dir",
        "output_data_dir",
        "output_intermediate_dir",
        "current_host",
        "num_cpus",
        "num_gpus",
        "module_dir",
        "module_name",
        "user_entry_point",
        "network_interface_name",
        "log_level",
        "input_data_config",
        "resource_config",
    ):
        env[f"SM_{key.upper()}"] = _env_value(training_env[key])
    for channel, path in channels.items():
        env[f"SM_CHANNEL_{channel.upper()}"] = str(path)
    for hp, value in decoded.items():
        env[f"SM_HP_{hp.upper()}"] = _env_value(value)
    env.update(step.environment)
    return env
