"""Which files belong to a step, their digests, and archives whose bytes depend only on content.

One rule decides what of a folder is a step's: fingerprints hash exactly what the
targets ship (training code, Lambda bundles, website files), so a file that
changes a deployment always changes the plan, and a private file is never shipped.
Standard library only: `plan` hashes files and must start fast.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import tarfile

CHUNK = 1024 * 1024
FIXED_MTIME = 0  # archive entries carry no time, so the same content gives the same bytes
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
GZIP_LEVEL = 6

# Never a step's: tools' caches and environments. Besides these, a name starting with "."
# (`.env`, `.git/`, `.orchestrator/`, ...) is private, except `.well-known/`, which sites need.
IGNORED_DIRS = frozenset({"__pycache__", "node_modules", "venv"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
PUBLIC_DOT_NAMES = frozenset({".well-known"})


def is_ignored(name: str, is_dir: bool) -> bool:
    """The one rule: True for what never belongs to a step (see the module docstring)."""
    if name.startswith(".") and name not in PUBLIC_DOT_NAMES:
        return True
    if is_dir:
        return name in IGNORED_DIRS
    return name.endswith(IGNORED_SUFFIXES)


def walk(path: Path, exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Files under `path` (or `path` itself, if a file) that belong to a step, in a stable order.

    `exclude` names folders to leave out wherever they appear inside (the state folder,
    another step's data). Paths are compared after resolving symlinks, so a link into an
    excluded folder is left out too, and a symlink back to a folder being walked (a loop) is not followed.
    """
    path = Path(path)
    if path.is_file():
        yield path
        return
    skip = tuple(Path(p).resolve() for p in exclude)
    yield from _walk(path, skip, ())


def _excluded(resolved: Path, skip: tuple[Path, ...]) -> bool:
    return any(resolved == folder or resolved.is_relative_to(folder) for folder in skip)


def _walk(folder: Path, skip: tuple[Path, ...], ancestors: tuple[Path, ...]) -> Iterator[Path]:
    real = folder.resolve()
    if real in ancestors or _excluded(real, skip):
        return
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if child.is_dir():
            if not is_ignored(child.name, True):
                yield from _walk(child, skip, (*ancestors, real))
        elif child.is_file() and not is_ignored(child.name, False) and not (skip and _excluded(child.resolve(), skip)):
            yield child


def relative_files(folder: Path, exclude: Iterable[Path] = ()) -> list[tuple[str, Path]]:
    """(posix path relative to `folder`, file) for every file of the folder that belongs to a step."""
    folder = Path(folder)
    return [(p.relative_to(folder).as_posix(), p) for p in walk(folder, exclude)]


def file_digest(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(entries: Iterable[tuple[str, Path]]) -> str:
    """One digest for a set of files: each one's name and content."""
    h = hashlib.sha256()
    for name, path in sorted(entries):
        h.update(f"{name}\0{file_digest(path)}\n".encode())
    return h.hexdigest()


def _mode(path: Path) -> int:
    return 0o755 if path.stat().st_mode & 0o111 else 0o644


def pack_tar_gz(entries: Iterable[tuple[str, Path]], out: BinaryIO) -> None:
    """A tar.gz of (name, file) entries whose bytes depend only on names, content and exec bits."""
    import gzip  # archives are made by runs, never by plan: keep plan's imports small
    import tarfile

    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=FIXED_MTIME, compresslevel=GZIP_LEVEL) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, path in sorted(entries):
            info = _tar_info(name)
            info.size = path.stat().st_size
            info.mode = _mode(path)
            with path.open("rb") as content:
                tar.addfile(info, content)


def pack_folder_tar_gz(folder: Path, out: BinaryIO) -> None:
    """Everything in `folder`, folders and symlinks included, as a reproducible tar.gz.

    For what a job wrote (a model): unlike code, none of it is filtered out.
    """
    import gzip
    import tarfile

    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=FIXED_MTIME, compresslevel=GZIP_LEVEL) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path, name in _every_entry(Path(folder), ""):
            _add_any(tar, path, name)


def pack_zip(entries: Iterable[tuple[str, Path]], out: BinaryIO) -> None:
    """A zip of (name, file) entries whose bytes depend only on names, content and exec bits."""
    import zipfile

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=GZIP_LEVEL) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = (stat.S_IFREG | _mode(path)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as src, archive.open(info, "w") as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)


def _tar_info(name: str) -> tarfile.TarInfo:
    import tarfile

    info = tarfile.TarInfo(name)
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _every_entry(folder: Path, prefix: str) -> Iterator[tuple[Path, str]]:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(entry.path)
        name = f"{prefix}{entry.name}"
        yield path, name
        if entry.is_dir(follow_symlinks=False):
            yield from _every_entry(path, f"{name}/")


def _add_any(tar: tarfile.TarFile, path: Path, name: str) -> None:
    import tarfile

    info = _tar_info(name)
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(path)
        info.mode = 0o777
        tar.addfile(info)
    elif stat.S_ISDIR(mode):
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
    elif stat.S_ISREG(mode):
        info.size = path.stat().st_size
        info.mode = 0o755 if mode & 0o111 else 0o644
        with path.open("rb") as content:
            tar.addfile(info, content)
    else:
        raise ValueError(f"{path} is neither a file, a folder nor a symlink; it cannot be packed")
