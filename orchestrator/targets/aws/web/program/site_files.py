"""What of a website's folder is uploaded: one rule, no Pulumi, so it is tested on its own."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .....files import relative_files


def site_files(source: Path, private_dirs: Iterable[Path] = ()) -> list[tuple[str, Path]]:
    """(object key, file) for every published file of the site, in a stable order.

    The one file rule of `orchestrator/files.py`: never a dot-file or anything in a
    dot-folder (`.env`, `.git/`, `.orchestrator/`, ...; `.well-known/` is published, as
    ACME and app-association files need it), nor caches and environments (`__pycache__`,
    `node_modules`, `venv`). Nor anything in `private_dirs` (the pipeline's state folder,
    whatever its name), also when a symlink leads there.
    """
    if not source.is_dir():
        raise FileNotFoundError(f"website source folder {source} does not exist")
    private = [Path(folder).resolve() for folder in private_dirs]
    # `exclude=` skips those folders where the walk meets them; a symlink to a file or a
    # subfolder inside one is only caught by where it resolves to.
    return sorted(
        (key, path)
        for key, path in relative_files(source, exclude=private)
        if not any(path.resolve().is_relative_to(folder) for folder in private)
    )
