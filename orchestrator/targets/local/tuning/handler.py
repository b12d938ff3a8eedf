"""Tuning steps: a local hyperparameter tuning job (job.py runs it), its trials local training jobs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.tuning import InsideTraining, TuningStep
from ...base import StepContext, StepHandler, StepResult
from ..handler import refuse_custom_image, warning
from ..training.handler import TrainingHandler


class TuningHandler(StepHandler):
    def __init__(self, home: Path):
        self.home = home
        self.training = TrainingHandler(home)

    def check(self, name: str, step: TuningStep, doc: Document) -> Iterator[Diagnostic]:
        yield from self.training.check(name, step.training, InsideTraining(doc, name))  # type: ignore[arg-type]
        if step.strategy in ("Bayesian", "Hyperband"):
            yield warning(
                doc,
                ("steps", name, "strategy"),
                f"the local target does not emulate the {step.strategy} strategy: "
                f"it runs {step.max_jobs or 1} trial{'s' if (step.max_jobs or 1) != 1 else ''} "
                f"drawn at random (seed {step.seed})",
                "use strategy: Random or Grid for local runs that choose as aws does",
            )

    def preflight(self, name: str, step: TuningStep) -> None:
        refuse_custom_image(name, step.training)

    def apply(self, step: TuningStep, ctx: StepContext) -> StepResult:
        from .job import run_tuning  # the training side loads only when a run tunes

        return run_tuning(step, ctx, self.home)

    def destroy(self, ctx: StepContext) -> str:
        return f"tuning {ctx.step}: its trials' model artifacts stay in the local S3's artifact store"

    def probe(self, outputs: Any) -> bool | None:
        return self.training.probe(outputs)
