"""What every local step handler adds to StepHandler: the checks made before anything runs.

`warnings` says, located in the spec, what of a step the local target accepts but does
not emulate (the commands print these with the spec's other warnings); `preflight`
refuses what it cannot run at all. Both are cheap: no heavy import, nothing started.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from ...diagnostics import Diagnostic, PathT
from ...spec.loader import Document
from ..base import StepHandler, TargetError


class LocalHandler(StepHandler):
    def warnings(self, name: str, step: Any, doc: Document) -> Iterator[Diagnostic]:
        """Located warnings for what of this step has no local effect."""
        return iter(())

    def preflight(self, name: str, step: Any) -> None:
        """Raise TargetError if this step cannot run locally."""


def warning(doc: Document, path: PathT, message: str, hint: str | None = None) -> Diagnostic:
    return dataclasses.replace(doc.diagnostic(path, message, hint, key=True), severity="warning")


def custom_image_refusal(step_name: str, image: str) -> tuple[str, str]:
    """Why a step with a custom image cannot run locally, and what to do: (message, hint)."""
    message = (
        f"step {step_name!r} uses a custom image ({image}), which needs Docker; "
        "the local target runs scripts without containers"
    )
    return message, "use framework: or algorithm: for local runs, or run this pipeline with target: aws"


def refuse_custom_image(name: str, step: Any) -> None:
    if step.image:
        message, hint = custom_image_refusal(name, step.image)
        raise TargetError(message, hint=hint)
