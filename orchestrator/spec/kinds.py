"""Each step kind described once: its model, what it publishes, what it reads, what it costs.

The validator, planner, executor and both targets consult these records and never
test a kind's name. Adding a kind means one model in `models.py`, one record here,
and a handler for it in each target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from .models import STEP_MODELS, ApiStep, EndpointStep, Strict, TrainingStep, TransformStep, TuningStep, WebsiteStep
from .processing import ProcessingStep

HANDLER = re.compile(r"^(?P<file>[^:]+\.py):(?P<func>[A-Za-z_][A-Za-z0-9_]*)$")

Expect = Literal["file", "dir", "any"]


@dataclass(frozen=True)
class StepPath:
    """A path a step names: where it is written, what must be there, and whether it counts as code or data."""

    at: tuple[str | int, ...]  # inside the step, e.g. ("routes", 0, "handler")
    value: str  # as written: relative to the spec, an s3:// URI, or a ${...} reference
    expect: Expect
    role: Literal["code", "data"] | None  # None: checked, but hashed as part of another path
    with_folder: bool = False  # a script imports its folder's modules, so the folder is what counts

    @property
    def hashed(self) -> str:
        """What the fingerprint hashes: the path, or a script's folder (unless that is the whole project)."""
        if not self.with_folder:
            return self.value
        folder = str(Path(self.value).parent)
        return self.value if folder in ("", ".") else folder


@dataclass(frozen=True)
class Kind:
    """Everything the rest of the tool needs to know about one kind of step."""

    name: str
    model: type[Strict]
    outputs: Callable[[Any], tuple[str, ...]]  # what ${steps.X.outputs.KEY} may name, from the typed step
    paths: Callable[[Any], list[StepPath]]  # the files it reads
    identity: tuple[str, ...] = ()  # outputs naming a resource in the world (steps sharing one share it), best first
    name_output: str | None = None  # the output holding the resource's name: a new value is a rename
    billable: bool = False  # SageMaker bills it while it runs, on a target that costs money
    serves_model: bool = False  # keeps a live model: promotion gate, lineage, rollback
    reports_metrics: bool = False  # its metrics can gate a model that comes from it
    unfinished_leaves_resources: bool = True  # a failed attempt may have left something for destroy to remove
    # a change the service cannot make in place (old config, new config -> what changes, or None): the plan says so
    recreated_by: Callable[[dict, dict], str | None] | None = None
    # keys that decide whether a new model goes live, not what is deployed: a change to them alone redeploys nothing
    gates: tuple[str, ...] = ()
    # outputs the target tells before the step runs (a website's origin): referring to one orders nothing,
    # so a step the site itself reads (the API whose URL its page calls) may name it without a cycle
    known_before: tuple[str, ...] = ()


def _static(*names: str) -> Callable[[Any], tuple[str, ...]]:
    return lambda step: names


def _training_paths(step: TrainingStep) -> list[StepPath]:
    paths: list[StepPath] = []
    if step.entry_point:
        role = None if step.source_dir else "code"
        paths.append(StepPath(("entry_point",), step.entry_point, "file", role, with_folder=True))
    if step.source_dir:
        paths.append(StepPath(("source_dir",), step.source_dir, "dir", "code"))
    for channel, value in step.inputs.items():
        paths.append(StepPath(("inputs", channel), value, "any", "data"))
    return paths


def _endpoint_paths(step: EndpointStep) -> list[StepPath]:
    if not step.inference:
        return []
    return [StepPath(("inference",), step.inference, "file", "code", with_folder=True)]


def _api_paths(step: ApiStep) -> list[StepPath]:
    paths: list[StepPath] = []
    for i, route in enumerate(step.routes):
        m = HANDLER.match(route.handler or "")
        if m:
            paths.append(StepPath(("routes", i, "handler"), m.group("file"), "file", "code", with_folder=True))
        if route.requirements:
            paths.append(StepPath(("routes", i, "requirements"), route.requirements, "file", "code"))
    return paths


def _website_paths(step: WebsiteStep) -> list[StepPath]:
    return [StepPath(("source",), step.source, "dir", "code")]


def _transform_paths(step: TransformStep) -> list[StepPath]:
    paths = _endpoint_paths(step)  # type: ignore[arg-type]  (the same serving settings)
    if not step.input.startswith("s3://"):
        paths.append(StepPath(("input",), step.input, "any", "data"))
    return paths


def _tuning_paths(step: TuningStep) -> list[StepPath]:
    return [replace(p, at=("training", *p.at)) for p in _training_paths(step.training)]


TRAINING = Kind(
    "training",
    TrainingStep,
    outputs=_static("model", "job_name", "data"),  # data: what the job wrote to SM_OUTPUT_DATA_DIR
    paths=_training_paths,
    billable=True,
    reports_metrics=True,
    unfinished_leaves_resources=False,  # a job that failed stopped; its artifacts stay by design
)


def _hosting_change(old: dict, new: dict) -> str | None:
    """SageMaker cannot update an endpoint between instance and serverless hosting (UpdateEndpoint)."""

    def hosting(config: dict) -> str | None:
        if config.get("serverless") is not None:  # `serverless: {}` takes every default
            return "serverless"
        return "instance" if config.get("instance") is not None else None

    before, after = hosting(old), hosting(new)
    return f"its hosting from {before} to {after}" if before and after and before != after else None


ENDPOINT = Kind(
    "endpoint",
    EndpointStep,
    outputs=_static("endpoint_name", "url", "model"),
    paths=_endpoint_paths,
    identity=("url", "endpoint_name"),
    name_output="endpoint_name",
    billable=True,
    serves_model=True,
    recreated_by=_hosting_change,
    gates=("promote_when",),
)
API = Kind(
    "api", ApiStep, outputs=_static("url", "api_id"), paths=_api_paths, identity=("url", "api_id"), name_output="api_id"
)
WEBSITE = Kind(
    "website",
    WebsiteStep,
    outputs=_static("url", "bucket", "origin"),  # origin: scheme://host[:port], what a browser sends as Origin
    paths=_website_paths,
    identity=("url", "bucket"),
    name_output="bucket",
    known_before=("origin",),
)

TRANSFORM = Kind("transform", TransformStep, outputs=_static("data", "job_name"), paths=_transform_paths, billable=True)
TUNING = Kind(
    "tuning",
    TuningStep,
    outputs=_static("model", "job_name", "best_hyperparameters"),
    paths=_tuning_paths,
    billable=True,
    reports_metrics=True,
    unfinished_leaves_resources=False,  # as training: stopped trials keep only their artifacts
)


def _processing_paths(step: ProcessingStep) -> list[StepPath]:
    paths: list[StepPath] = []
    if step.entry_point:  # the framework processor ships the script alone, or source_dir with it
        paths.append(StepPath(("entry_point",), step.entry_point, "file", None if step.source_dir else "code"))
    if step.source_dir:
        paths.append(StepPath(("source_dir",), step.source_dir, "dir", "code"))
    for name, value in step.inputs.items():
        paths.append(StepPath(("inputs", name), value, "any", "data"))
    return paths


PROCESSING = Kind(
    "processing",
    ProcessingStep,
    outputs=lambda step: ("job_name", *step.outputs),  # each output the step names is an s3:// prefix
    paths=_processing_paths,
    billable=True,
    unfinished_leaves_resources=False,  # a job that failed stopped; what it wrote stays, as on SageMaker
)

KINDS: Mapping[str, Kind] = {k.name: k for k in (TRAINING, ENDPOINT, API, WEBSITE, PROCESSING, TRANSFORM, TUNING)}

assert {k.model for k in KINDS.values()} == set(STEP_MODELS), "every step model has exactly one kind record"
assert all(set(k.known_before) <= set(k.outputs(None)) for k in KINDS.values() if k.known_before), (
    "an output known before the step runs is one of its outputs"
)


def kind_of(name: str) -> Kind:
    return KINDS[name]
