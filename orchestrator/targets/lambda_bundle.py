"""What of the project a Lambda route ships: one rule for the aws bundle and the local Lambda.

A handler ships its folder (its helper modules live there), by the one file rule of
`orchestrator/files.py` (no `.env`, `.venv/`, caches), minus every folder that belongs
to something else: the state folder, other steps' data, website sources and code
folders. A handler at the top of the project ships only its own file, as the step's
fingerprint counts only that file then. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..files import relative_files
from ..spec.kinds import KINDS
from ..spec.models import Pipeline


def private_folders(pipeline: Pipeline, project_dir: Path, state_dir: Path, step: str) -> list[Path]:
    """Folders a Lambda of `step` must never ship: the state folder and what other steps own."""
    folders = [state_dir]
    for name, other in pipeline.steps.items():
        for path in KINDS[other.type].paths(other):
            if "://" in path.value or "${" in path.value:
                continue
            owned = path.role == "data" or path.expect == "dir"
            if owned and not (name == step and path.role == "code"):
                folders.append((project_dir / path.value).resolve())
    return folders


def bundle_files(project_dir: Path, handler_file: Path, private: Iterable[Path] = ()) -> list[tuple[str, Path]]:
    """(name in the bundle, file) for a handler: its folder's files, or only the file at the project's top."""
    project_dir = project_dir.resolve()
    handler_file = handler_file.resolve()
    folder = handler_file.parent
    if folder == project_dir:
        return [(handler_file.name, handler_file)]
    keep_out = [p for p in private if not handler_file.is_relative_to(p)]  # never exclude the handler itself
    return relative_files(folder, exclude=keep_out)
