"""Which name a SageMaker job of a step takes: the fingerprint's base name, or its next attempt.

SageMaker never reuses a job's name, so a failed or stopped job of the same fingerprint gets
a fresh suffix (`base-2`, `base-3`, ...); so does a completed one when the step is forced,
while a job still running (or one that can still be attached to) is re-attached either way.
Training, processing, transform and tuning jobs all follow this rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def attempt_number(base: str, name: str) -> int:
    """base -> 1, base-2 -> 2; -1 for names that merely contain base."""
    if name == base:
        return 1
    match = re.fullmatch(re.escape(base) + r"-(\d+)", name)
    return int(match.group(1)) if match else -1


def pick_attempt(
    base: str, jobs: Iterable[tuple[str, str]], attachable: tuple[str, ...], forced: bool
) -> tuple[str, str | None]:
    """The name to use and the status of the job already under it (None: create it), from the
    (name, status) of the jobs a List call found for `base`."""
    attempts = sorted((n, name, status) for name, status in jobs if (n := attempt_number(base, name)) > 0)
    if not attempts:
        return base, None
    number, name, status = attempts[-1]
    if status in attachable and not (forced and status == "Completed"):
        return name, status
    return f"{base}-{number + 1}", None
