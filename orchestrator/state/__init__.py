"""Run state backends behind one interface (StateStore)."""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import UsageError
from .base import LiveModel, LockHeld, Resource, RunRecord, StateStore, StepRun

__all__ = ["LiveModel", "LockHeld", "Resource", "RunRecord", "StateStore", "StepRun", "open_store"]


def open_store(location: str, root: Path, create: bool = True) -> StateStore:
    """The store for a spec's `state:` setting: a folder beside the spec, or s3://bucket/prefix.

    `create=False` is for readers (plan, status): a pipeline that never ran has empty state
    and reading it creates nothing.
    """
    if location.startswith("s3://"):
        raise UsageError("state in S3 is not available in this version", "use a local state folder")
    from .sqlite import SqliteStore

    return SqliteStore((root / location).resolve(), create=create)
