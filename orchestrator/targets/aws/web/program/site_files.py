"""What of a website's folder is uploaded: one rule, no Pulumi, so it is tested on its own."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

SKIPPED_DIRS = {"__pycache__", "node_modules"}  # besides any name starting with "."


def is_published(relative: Path, path: Path, private_dirs: Iterable[Path] = ()) -> bool:
    """The one rule for what of the site folder goes to the bucket (files and the folders walked into).

    Never a dot-file or anything in a dot-folder (`.env`, `.git/`, `.orchestrator/`, ...;
    `.well-known/` is published, as ACME and app-association files need it),
    nor `__pycache__`/`node_modules`, nor anything in `private_dirs` (the pipeline's state
    folder, whatever its name), also when reached through a symlink.
    """
    if any((part.startswith(".") and part != ".well-known") or part in SKIPPED_DIRS for part in relative.parts):
        return False
    resolved = path.resolve()
    return not any(resolved.is_relative_to(folder) for folder in private_dirs)


def site_files(source: Path, private_dirs: Iterable[Path] = ()) -> list[tuple[str, Path]]:
    """(object key, file) for every published file of the site, in a stable order."""
    if not source.is_dir():
        raise FileNotFoundError(f"website source folder {source} does not exist")
    private = [Path(folder).resolve() for folder in private_dirs]
    files = []
    for folder, dirs, names in os.walk(source):
        here = Path(folder)
        dirs[:] = [name for name in dirs if is_published((here / name).relative_to(source), here / name, private)]
        for name in names:
            path = here / name
            if path.is_file() and is_published(path.relative_to(source), path, private):
                files.append((path.relative_to(source).as_posix(), path))
    return sorted(files)
