"""Transform steps: a local batch transform job (job.py runs it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.transform import TransformStep
from ...base import StepContext, StepHandler, StepResult
from ..handler import refuse_custom_image
from ..storage.layout import S3Layout, split_s3_uri


class TransformHandler(StepHandler):
    def __init__(self, home: Path):
        self.home = home
        self.layout = S3Layout(home / "s3")

    def check(self, name: str, step: TransformStep, doc: Document) -> Iterator[Diagnostic]:
        """An s3:// input reads the local S3 here: one that is not there fails the plan, with its key."""
        missing = self.layout.missing_input(step.input)
        if missing:
            yield doc.diagnostic(("steps", name, "input"), *missing)

    def preflight(self, name: str, step: TransformStep) -> None:
        refuse_custom_image(name, step)

    def apply(self, step: TransformStep, ctx: StepContext) -> StepResult:
        from .job import run_transform  # the serving side loads only when a run transforms

        return run_transform(step, ctx, self.home)

    def destroy(self, ctx: StepContext) -> str:
        """A finished job runs nothing; its folder goes, its answers stay in the local S3 (as on AWS)."""
        name = ctx.previous.outputs.get("job_name") if ctx.previous else None
        if not name:
            return f"Nothing of step {ctx.step} was recorded, so nothing was removed."
        shutil.rmtree(self.home / "jobs" / name, ignore_errors=True)
        data = ctx.previous.outputs.get("data")
        return f"transform {ctx.step}: removed job {name}'s folder" + (f"; its output stays at {data}" if data else "")

    def probe(self, outputs: Any) -> bool | None:
        data = outputs.get("data", "")
        if not data.startswith("s3://"):
            return None
        bucket, prefix = split_s3_uri(data)
        return bool(self.layout.listing(bucket, prefix))
