"""Run state backends behind one interface (StateStore)."""

from __future__ import annotations

from pathlib import Path

from ..spec.models import Pipeline
from .base import LiveModel, LockHeld, Resource, RunRecord, StateOwnedElsewhere, StateStore, StepRun
from .folder import ensure_gitignore, make_private_folder

__all__ = ["LiveModel", "LockHeld", "Resource", "RunRecord", "StateStore", "StepRun", "open_store"]


def open_store(pipeline: Pipeline, root: Path, create: bool = True) -> StateStore:
    """The store for a spec's `state:` setting: a folder beside the spec, or s3://bucket/prefix.

    `create=False` is for readers (plan, status): a pipeline that never ran has empty state
    and reading it creates nothing.
    """
    location = pipeline.state
    if location.startswith("s3://"):
        from .s3 import S3Store

        if create:  # the local target's files stay beside the spec, as private as with SQLite state
            folder = (root / pipeline.local_folder()).resolve()
            make_private_folder(folder)
            ensure_gitignore(folder)
        bucket, _, prefix = location[len("s3://") :].partition("/")
        return S3Store(bucket, prefix, pipeline.name, pipeline.region)
    from .sqlite import SqliteStore

    store = SqliteStore((root / location).resolve(), create=create)
    owner = store.owner()
    if owner is not None and owner != pipeline.name:  # S3 state is keyed by pipeline; a folder is not
        raise StateOwnedElsewhere(store.location, owner, pipeline.name)
    return store
