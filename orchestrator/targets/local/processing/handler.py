"""Processing steps: a local job under SageMaker Processing's contract (job.py runs it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.processing import ProcessingStep
from ...base import LogRequest, StepContext, StepHandler, StepResult
from ..handler import refuse_custom_image
from ..logbook import LocalFeed
from ..logs import job_feed
from ..storage.layout import S3Layout
from ..training.running import stop_step_jobs


class ProcessingHandler(StepHandler):
    def __init__(self, home: Path):
        self.home = home
        self.layout = S3Layout(home / "s3")

    def check(self, name: str, step: ProcessingStep, doc: Document) -> Iterator[Diagnostic]:
        """An s3:// input reads the local S3 here: one that is not there fails the plan, with its key."""
        for input_name, source in step.inputs.items():
            missing = self.layout.missing_input(source)
            if missing:
                yield doc.diagnostic(("steps", name, "inputs", input_name), *missing)

    def logs(self, step: ProcessingStep, request: LogRequest) -> LocalFeed:
        """The job's output, each line with its time, as for a training job."""
        return job_feed(self.home, "processing", request)

    def preflight(self, name: str, step: ProcessingStep) -> None:
        refuse_custom_image(name, step)

    def apply(self, step: ProcessingStep, ctx: StepContext) -> StepResult:
        from .job import run_processing  # the job side loads only when a run processes

        return run_processing(step, ctx, self.home)

    def destroy(self, ctx: StepContext) -> str:
        stopped = stop_step_jobs(self.home, ctx.pipeline.name, ctx.step)
        return f"processing {ctx.step}: its outputs stay in the local S3, as a finished job's do{stopped}"

    def probe(self, outputs: Any) -> bool | None:
        """Every published output prefix still holds its objects (the local S3 may have been wiped)."""
        prefixes = [v for k, v in outputs.items() if k != "job_name" and isinstance(v, str) and v.startswith("s3://")]
        if not prefixes:
            return None
        return all(self.layout.listing_digest(uri) is not None for uri in prefixes)
