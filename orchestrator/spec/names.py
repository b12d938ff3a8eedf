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
