"""The `processing` step: a SageMaker Processing job (prepare data, make features, evaluate a model).

Its `outputs` are named by the step, so what `${steps.X.outputs.KEY}` may name is
derived from them (see kinds.py). A `report` turns one JSON file it writes into the
step's metrics, as SageMaker Pipelines' PropertyFile does, so an endpoint can be
gated on an evaluation instead of the training log.
"""

# No `from __future__ import annotations`: pydantic would eval every field's type from a string.
from functools import cache
from typing import Annotated, Literal

from pydantic import Field

from .models import Instance, Strict, _no_entries, _no_items

# ProcessingInput.InputName / ProcessingOutput.OutputName, and a folder name under /opt/ml/processing.
CHANNEL = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# StoppingCondition.MaxRuntimeInSeconds for processing jobs (API reference: 1 to 777600).
MAX_RUNTIME_S = 777600
CODE_INPUT = "code"  # the input the framework processor mounts the script under (/opt/ml/processing/input/code)


class Report(Strict):
    """A JSON file one of the step's outputs holds; its numbers become the step's metrics."""

    output: str = Field(description="The output (one of `outputs`) the file is written under.")
    file: str = Field(
        "evaluation.json",
        pattern=r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,254}$",
        description="The file's path inside that output, e.g. evaluation.json.",
    )


class ProcessingStep(Strict):
    """A SageMaker Processing job: a script in the framework processor, or an image."""

    type: Literal["processing"]
    framework: Literal["sklearn"] | None = Field(None, description="Framework processor for entry_point.")
    framework_version: str | None = Field(None, description="Framework container version, e.g. 1.2-1.")
    image: str | None = Field(None, description="A custom processing image URI.")
    entry_point: str | None = Field(None, description="Processing script, relative to the spec file.")
    source_dir: str | None = Field(None, description="Folder shipped with the script (default: the script alone).")
    arguments: list[str] = Field(
        default_factory=_no_items, max_length=100, description="Arguments the script gets, as ContainerArguments."
    )
    inputs: dict[Annotated[str, Field(pattern=CHANNEL)], str] = Field(
        default_factory=_no_entries,
        description="Input name -> local path, s3:// URI or ${...}; mounted at /opt/ml/processing/input/<name>.",
    )
    outputs: list[Annotated[str, Field(pattern=CHANNEL)]] = Field(
        default_factory=_no_items,
        description="Output names: what the job writes under /opt/ml/processing/output/<name>, "
        "published as ${steps.<step>.outputs.<name>} (s3:// prefixes ending in '/').",
    )
    report: Report | None = Field(None, description="A JSON file of an output whose numbers become the metrics.")
    instance: Instance = Field(default_factory=lambda: Instance(type="ml.m5.large"))
    max_runtime_s: int = Field(86400, ge=1, le=MAX_RUNTIME_S, description="Stop the job after this many seconds.")
    environment: dict[str, str] = Field(default_factory=_no_entries)
    tags: dict[str, str] = Field(default_factory=_no_entries)


def _expand(spec: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(f"ml.{family}.{size}" for family, sizes in spec.items() for size in sizes)


# ProcessingResources.ClusterConfig.InstanceType, as the CreateProcessingJob API reference lists
# them (families whose sizes we know from the pricing pages): t3 runs processing, not training.
_PROCESSING = {
    "t3": ("medium", "large", "xlarge", "2xlarge"),
    "m4": ("xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"),
    "m5": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "m6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "m7i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"),
    "c4": ("xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "c5": ("xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"),
    "c6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "c7i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"),
    "r5": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "r6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "p3": ("2xlarge", "8xlarge", "16xlarge"),
    "g4dn": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "g5": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"),
}


@cache
def processing_types() -> frozenset[str]:
    return _expand(_PROCESSING)


def report_metrics(data: object, prefix: str = "") -> dict[str, float]:
    """The numbers of a report as metrics, nested keys joined with dots and list items as [i]:
    the paths SageMaker Pipelines' JsonGet reads from a PropertyFile (`metrics.accuracy.value`)."""
    if isinstance(data, bool):
        return {}
    if isinstance(data, int | float):
        number = float(data)
        return {prefix: number} if prefix and number == number and abs(number) != float("inf") else {}
    found: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            found.update(report_metrics(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.update(report_metrics(value, f"{prefix}[{i}]"))
    return found
