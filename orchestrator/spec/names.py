"""Names the pipeline gives the resources it makes; every target derives them here, the same way."""

from __future__ import annotations

import re

MAX_ENDPOINT_NAME = 63


def endpoint_name(pipeline: str, step: str, explicit: str | None = None) -> str:
    """An endpoint's SageMaker name: the spec's `endpoint_name`, or `<pipeline>-<step>` made valid."""
    if explicit:
        return explicit
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", f"{pipeline}-{step}").strip("-")
    return cleaned[:MAX_ENDPOINT_NAME].rstrip("-")


LEFTOVER = ".was."  # step names match [A-Za-z0-9_-]+, so a recorded name with a dot is never a spec step


def leftover_step(owner: str, old_name: str) -> str:
    """The record of a renamed resource whose removal failed: `deploy.was.first`, removed next run."""
    return f"{owner}{LEFTOVER}{old_name}"


def leftover_owner(step: str) -> str | None:
    """The step that renamed the resource a leftover record names; None for an ordinary step."""
    owner, found, _ = step.partition(LEFTOVER)
    return owner if found else None
