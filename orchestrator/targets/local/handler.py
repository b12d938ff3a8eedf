"""What local step handlers share: located warnings for what is accepted but not emulated,
and the refusal of custom images (they need Docker)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...diagnostics import Diagnostic, PathT
from ...spec.loader import Document
from ..base import TargetError


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
