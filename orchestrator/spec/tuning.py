"""The `tuning` step: a SageMaker hyperparameter tuning job over a training step's settings.

`training:` takes every key of a training step; `ranges:` names the hyperparameters the
tuner picks, and `objective:` the metric (one the training reports) that ranks the trials.
"""

# No `from __future__ import annotations`: pydantic would eval every field's type from a string.
import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from .models import Strict, TrainingStep

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic
    from .loader import Document
    from .models import Pipeline

# SageMaker's tuning limits (API reference: HyperParameterTuningJobConfig, ParameterRanges,
# ResourceLimits; developer guide "Define hyperparameter ranges"): at most 30 ranges in all,
# at most 30 values per categorical range, Grid takes only categorical ranges, a
# logarithmic range needs min > 0, Hyperband stops trials itself (TrainingJobEarlyStoppingType Off).
MAX_RANGES = 30
MAX_CATEGORY_VALUES = 30
MAX_JOBS = 500  # service quota: training jobs per tuning job
MAX_PARALLEL_JOBS = 100  # service quota: concurrent training jobs per tuning job
BUILTIN_METRIC = re.compile(r"^(train|validation|test):[A-Za-z0-9_]+$")


class TuningTraining(TrainingStep):
    """A training step's keys; its `type` may be left out."""

    type: Literal["training"] = "training"


class Objective(Strict):
    metric: str = Field(min_length=1, max_length=255, description="A metric the training reports.")
    type: Literal["Maximize", "Minimize"] = "Maximize"


class NumberRange(Strict):
    """Numbers between min and max; integers when both bounds are (or `type: integer`)."""

    min: int | float
    max: int | float
    type: Literal["continuous", "integer"] | None = Field(None, description="Default: integer if both bounds are.")
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    @property
    def integer(self) -> bool:
        if self.type is not None:
            return self.type == "integer"
        return isinstance(self.min, int) and isinstance(self.max, int)


class Categories(Strict):
    values: list[str | int | float | bool] = Field(min_length=1, description="The values to choose from.")


class TuningStep(Strict):
    """A SageMaker hyperparameter tuning job; its best trial's model is the step's model."""

    type: Literal["tuning"]
    training: TuningTraining = Field(description="The training every trial runs: every key of a training step.")
    objective: Objective
    ranges: dict[str, NumberRange | Categories] = Field(min_length=1, description="Hyperparameter -> its range.")
    strategy: Literal["Bayesian", "Random", "Grid", "Hyperband"] = "Bayesian"
    max_jobs: int | None = Field(None, ge=1, le=MAX_JOBS, description="Trials in all (Grid: default every one).")
    max_parallel_jobs: int = Field(1, ge=1, le=MAX_PARALLEL_JOBS, description="Trials at the same time.")
    early_stopping: Literal["Off", "Auto"] = "Off"
    seed: int = Field(0, ge=0, description="RandomSeed: the same seed picks the same trials.")
    tags: dict[str, str] = Field(default_factory=lambda: {})


def grid_size(step: TuningStep) -> int:
    return math.prod(len(r.values) for r in step.ranges.values() if isinstance(r, Categories))


def check_tuning(p: "Pipeline", doc: "Document", root: object) -> Iterator["Diagnostic"]:
    """What CreateHyperParameterTuningJob would refuse, found before anything is spent."""
    for name, step in p.steps.items():
        if isinstance(step, TuningStep):
            yield from _tuning_problems(name, step, doc)


def check_tuning_training(p: "Pipeline", doc: "Document", root: object) -> Iterator["Diagnostic"]:
    """A tuning step's `training:` passes the checks a training step does, located inside it."""
    from .checks import check_hyperparameters, check_instance_types, check_training_source

    for name, step in p.steps.items():
        if isinstance(step, TuningStep):
            alone = p.model_copy(update={"steps": {name: step.training}})
            for check in (check_training_source, check_hyperparameters, check_instance_types):
                yield from check(alone, InsideTraining(doc, name), root)


class InsideTraining:
    """A document whose diagnostics for step NAME point inside its `training:` key."""

    def __init__(self, doc: "Document", name: str):
        self.doc, self.name = doc, name

    def diagnostic(self, path, message, hint=None, key=False):
        return self.doc.diagnostic(("steps", self.name, "training", *path[2:]), message, hint, key=key)


def _tuning_problems(name: str, step: TuningStep, doc: "Document") -> Iterator["Diagnostic"]:
    at = ("steps", name)
    if len(step.ranges) > MAX_RANGES:
        yield doc.diagnostic(at + ("ranges",), f"{len(step.ranges)} ranges; SageMaker tunes at most {MAX_RANGES}")
    for key, rng in step.ranges.items():
        where = at + ("ranges", key)
        if key in step.training.hyperparameters:
            yield doc.diagnostic(
                at + ("training", "hyperparameters", key),
                f"hyperparameter '{key}' is both fixed here and tuned in ranges",
                "remove it from training.hyperparameters; the tuner sets it",
                key=True,
            )
        if isinstance(rng, Categories):
            if len(rng.values) > MAX_CATEGORY_VALUES:
                yield doc.diagnostic(
                    where + ("values",),
                    f"{len(rng.values)} values; a categorical range takes at most {MAX_CATEGORY_VALUES}",
                )
            continue
        if rng.min > rng.max:
            yield doc.diagnostic(where, f"min ({rng.min}) is above max ({rng.max})", "swap them")
        if rng.type == "integer" and not (float(rng.min).is_integer() and float(rng.max).is_integer()):
            yield doc.diagnostic(where, "an integer range needs whole-number bounds")
        if rng.scaling in ("Logarithmic", "ReverseLogarithmic") and rng.min <= 0:
            yield doc.diagnostic(where + ("scaling",), f"{rng.scaling} scaling needs min > 0", "use Linear or Auto")
        if rng.scaling == "ReverseLogarithmic" and (rng.integer or rng.max >= 1):
            yield doc.diagnostic(
                where + ("scaling",), "ReverseLogarithmic scaling is for continuous ranges within [0, 1)"
            )
        if step.strategy == "Grid":
            yield doc.diagnostic(
                where,
                "the Grid strategy takes only categorical ranges",
                "list the values to try: {values: [...]}, or use strategy: Random",
            )
    if step.strategy == "Grid" and step.max_jobs is not None and step.max_jobs > grid_size(step):
        yield doc.diagnostic(
            at + ("max_jobs",),
            f"max_jobs {step.max_jobs} is more than the grid's {grid_size(step)} combinations",
            "leave max_jobs out: Grid runs every combination",
        )
    if step.strategy != "Grid" and step.max_jobs is None:
        yield doc.diagnostic(at, f"the {step.strategy} strategy needs max_jobs", "e.g. max_jobs: 10")
    if step.max_jobs is not None and step.max_parallel_jobs > step.max_jobs:
        yield doc.diagnostic(
            at + ("max_parallel_jobs",),
            f"max_parallel_jobs {step.max_parallel_jobs} is more than max_jobs {step.max_jobs}",
        )
    if step.strategy == "Hyperband" and step.early_stopping != "Off":
        yield doc.diagnostic(
            at + ("early_stopping",), "Hyperband stops trials itself: early_stopping must be Off", key=False
        )
    yield from _objective_problems(name, step, doc)


def _objective_problems(name: str, step: TuningStep, doc: "Document") -> Iterator["Diagnostic"]:
    metric = step.objective.metric
    where = ("steps", name, "objective", "metric")
    if step.training.algorithm:
        if not BUILTIN_METRIC.match(metric):
            yield doc.diagnostic(
                where,
                f"'{metric}' is not a metric a built-in algorithm reports",
                "built-ins report metrics like validation:accuracy or test:rmse",
            )
        if step.training.metrics:
            yield doc.diagnostic(
                ("steps", name, "training", "metrics"),
                "built-in algorithms report their own metrics; SageMaker refuses metric definitions for them",
                "remove training.metrics and name the algorithm's metric in objective",
            )
        return
    names = [m.name for m in step.training.metrics]
    if metric not in names:
        from ..diagnostics import did_you_mean

        yield doc.diagnostic(
            where,
            f"the training records no metric '{metric}'",
            did_you_mean(metric, names)
            or "add it to training.metrics: [{name: " + metric + ", regex: '" + metric + "=([0-9.]+)'}]",
        )
