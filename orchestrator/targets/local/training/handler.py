"""Training steps: a local job under SageMaker's training contract (job.py runs it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.models import TrainingStep
from ...base import LogRequest, StepContext, StepHandler, StepResult
from ..handler import refuse_custom_image
from ..logbook import LocalFeed
from ..logs import training_feed
from ..storage.layout import S3Layout, split_s3_uri
from .running import stop_step_jobs


class TrainingHandler(StepHandler):
    def __init__(self, home: Path):
        self.home = home
        self.layout = S3Layout(home / "s3")

    def check(self, name: str, step: TrainingStep, doc: Document) -> Iterator[Diagnostic]:
        """An s3:// input reads the local S3 here: one that is not there fails the plan, with its key."""
        for channel, source in step.inputs.items():
            missing = self.layout.missing_input(source)
            if missing:
                yield doc.diagnostic(("steps", name, "inputs", channel), *missing)

    def logs(self, step: TrainingStep, request: LogRequest) -> LocalFeed:
        """The job's output, each line with its time (stdout and stderr, as CloudWatch keeps a job's)."""
        return training_feed(self.home, request)

    def preflight(self, name: str, step: TrainingStep) -> None:
        refuse_custom_image(name, step)

    def apply(self, step: TrainingStep, ctx: StepContext) -> StepResult:
        from .job import run_training  # the training side loads only when a run trains

        return run_training(step, ctx, self.home)

    def destroy(self, ctx: StepContext) -> str:
        stopped = stop_step_jobs(self.home, ctx.pipeline.name, ctx.step)
        return f"training {ctx.step}: its model artifact stays in the local S3's artifact store{stopped}"

    def probe(self, outputs: Any) -> bool | None:
        model = outputs.get("model", "")
        if not model.startswith("s3://"):
            return None
        bucket, key = split_s3_uri(model)
        return self.layout.read_meta(bucket, key) is not None
