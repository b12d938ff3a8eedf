"""SageMaker Processing's container contract: the folders and the two config files a job sees.

The job's folder stands for the container's `/opt/ml`: inputs under
`processing/input/<name>`, outputs under `processing/output/<name>`, and
`config/processingjobconfig.json` (the CreateProcessingJob request as the job runs
it) and `config/resourceconfig.json` (its hosts), in the shapes SageMaker documents.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....spec.processing import CODE_INPUT, ProcessingStep
from ...base import StepFailed

CONTAINER_ROOT = "/opt/ml"
HOST = "algo-1"
ACCOUNT = "000000000000"  # the local cloud's account, as moto and LocalStack name it


@dataclass(frozen=True)
class ProcessingFolder:
    """One job's `/opt/ml`, plus the log the local target keeps beside it."""

    root: Path

    @property
    def input_data_dir(self) -> Path:  # named as training's, so the same staging code fills it
        return self.root / "processing" / "input"

    @property
    def output_dir(self) -> Path:
        return self.root / "processing" / "output"

    @property
    def code_dir(self) -> Path:
        return self.input_data_dir / CODE_INPUT

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def log_file(self) -> Path:
        return self.root / "processing.log"

    def output(self, name: str) -> Path:
        return self.output_dir / name

    def recreate(self, outputs: list[str]) -> None:
        """Start from an empty folder: a rerun of the same job must not see the last run's files."""
        try:
            if self.root.exists():
                shutil.rmtree(self.root)
            for folder in (self.config_dir, self.input_data_dir, *(self.output(name) for name in outputs)):
                folder.mkdir(parents=True)
        except OSError as exc:
            raise StepFailed(f"could not prepare the job folder {self.root}: {exc}") from exc


def container_path(*parts: str) -> str:
    return "/".join((CONTAINER_ROOT, *parts))


def entrypoint(script: str) -> list[str]:
    """What the framework processor runs: python3 on the script under the code input."""
    return ["python3", container_path("processing", "input", CODE_INPUT, script)]


def job_config(
    step: ProcessingStep,
    *,
    name: str,
    region: str,
    image: str,
    script: str | None,
    inputs: dict[str, str],
    outputs: dict[str, str],
) -> dict[str, Any]:
    """processingjobconfig.json: the job's CreateProcessingJob request, with its ARN."""
    processing_inputs = [
        {
            "InputName": input_name,
            "AppManaged": False,
            "S3Input": {
                "LocalPath": container_path("processing", "input", input_name),
                "S3Uri": uri,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
                "S3CompressionType": "None",
            },
        }
        for input_name, uri in inputs.items()
    ]
    processing_outputs = [
        {
            "OutputName": output_name,
            "AppManaged": False,
            "S3Output": {
                "LocalPath": container_path("processing", "output", output_name),
                "S3Uri": uri,
                "S3UploadMode": "EndOfJob",
            },
        }
        for output_name, uri in outputs.items()
    ]
    return {
        "ProcessingJobArn": f"arn:aws:sagemaker:{region}:{ACCOUNT}:processing-job/{name.lower()}",
        "ProcessingJobName": name,
        "AppSpecification": {
            "ImageUri": image,
            "ContainerEntrypoint": entrypoint(script) if script else None,
            "ContainerArguments": list(step.arguments) or None,
        },
        "Environment": dict(step.environment),
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": False, "EnableNetworkIsolation": False},
        "ProcessingInputs": processing_inputs,
        "ProcessingOutputConfig": {"Outputs": processing_outputs},
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": step.instance.count,
                "InstanceType": step.instance.type,
                "VolumeSizeInGB": step.instance.volume_gb,
            }
        },
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/local-processing",
        "StoppingCondition": {"MaxRuntimeInSeconds": step.max_runtime_s},
    }


def resource_config() -> dict[str, Any]:
    """resourceconfig.json: this host and every host of the job (one, locally)."""
    return {"current_host": HOST, "hosts": [HOST]}


def write_configs(folder: ProcessingFolder, config: dict[str, Any]) -> None:
    for filename, content in (("processingjobconfig.json", config), ("resourceconfig.json", resource_config())):
        (folder.config_dir / filename).write_text(json.dumps(content, indent=2) + "\n")
