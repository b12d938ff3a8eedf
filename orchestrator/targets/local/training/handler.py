"""Training steps: a local job under SageMaker's training contract (job.py runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ....spec.models import TrainingStep
from ...base import StepContext, StepHandler, StepResult
from ..handler import refuse_custom_image


class TrainingHandler(StepHandler):
    def __init__(self, home: Path):
        self.home = home

    def preflight(self, name: str, step: TrainingStep) -> None:
        refuse_custom_image(name, step)

    def apply(self, step: TrainingStep, ctx: StepContext) -> StepResult:
        from .job import run_training  # the training side loads only when a run trains

        return run_training(step, ctx, self.home)

    def destroy(self, ctx: StepContext) -> str:
        return f"training {ctx.step}: its model artifact stays in the local artifact store"

    def probe(self, outputs: Any) -> bool | None:
        model = outputs.get("model", "")
        return Path(urlparse(model).path).is_file() if model.startswith("file://") else None
