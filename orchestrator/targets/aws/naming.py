"""Names and tags of what the aws target creates.

Names derive from the step fingerprint, so a second run of the same step finds
(and re-attaches to) what the first made; tags mark ownership, so `destroy`
removes only what this pipeline created.
"""

from __future__ import annotations

import re

PIPELINE_TAG = "orchestrator:pipeline"
STEP_TAG = "orchestrator:step"
MAX_NAME = 63  # SageMaker's limit for job, model, config and endpoint names
FINGERPRINT_CHARS = 12


def _clean(text: str) -> str:
    """SageMaker names: letters, digits and single hyphens."""
    return re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9-]", "-", text)).strip("-")


def resource_prefix(pipeline: str, step: str) -> str:
    """`<pipeline>-<step>-`: short enough to leave room for a fingerprint and a retry suffix."""
    room = MAX_NAME - FINGERPRINT_CHARS - 4  # "-" + fingerprint + "-NN"
    return _clean(f"{pipeline}-{step}")[: room - 1].rstrip("-") + "-"


def resource_name(pipeline: str, step: str, fingerprint: str) -> str:
    return resource_prefix(pipeline, step) + fingerprint[:FINGERPRINT_CHARS]


def ownership_tags(pipeline: str, step: str, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The user's tags plus the two that say this pipeline's step owns the resource."""
    tags = dict(extra or {})
    tags[PIPELINE_TAG] = pipeline
    tags[STEP_TAG] = step
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def owned_by(tags: dict[str, str], pipeline: str, step: str) -> bool:
    return tags.get(PIPELINE_TAG) == pipeline and tags.get(STEP_TAG) == step
