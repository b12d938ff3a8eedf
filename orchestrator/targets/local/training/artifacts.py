"""A content-addressed store for packed artifacts: one digest, one file, never rewritten.

A model is named by the sha256 of its `model.tar.gz`, so a `file://` URI recorded in
state never changes meaning, and a retrain that yields the same model stores nothing
new. Packing is deterministic (sorted entries, fixed times and owners, no gzip name or
timestamp) so that "the same model" really does give the same bytes.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ....files import file_digest

FIXED_MTIME = 0
GZIP_LEVEL = 6


@dataclass(frozen=True)
class StoredArtifact:
    digest: str  # hex sha256 of the stored file's bytes
    path: Path

    @property
    def uri(self) -> str:
        return self.path.as_uri()


def folder_is_empty(folder: Path) -> bool:
    """True when the folder holds no entries at all (missing counts as empty)."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except FileNotFoundError:
        return True


def pack_folder(folder: Path, archive: BinaryIO) -> None:
    """Write the folder's contents as a tar.gz whose bytes depend only on names, content and exec bits."""
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=archive, mtime=FIXED_MTIME, compresslevel=GZIP_LEVEL) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path, name in _walk_sorted(folder, ""):
            _add_entry(tar, path, name)


def _walk_sorted(folder: Path, prefix: str) -> Iterator[tuple[Path, str]]:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(entry.path)
        name = f"{prefix}{entry.name}"
        yield path, name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_sorted(path, f"{name}/")


def _add_entry(tar: tarfile.TarFile, path: Path, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
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


class ArtifactStore:
    """Files under `<root>/sha256/<digest>/<filename>`, written by temp file + rename."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, digest: str, filename: str) -> Path:
        return self.root / "sha256" / digest / filename

    def put_folder(self, folder: Path, filename: str) -> StoredArtifact:
        """Pack a folder and store the archive; an identical archive already stored is reused."""
        scratch = self.root / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=scratch, prefix=f".{filename}.", suffix=".partial")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                pack_folder(folder, handle)
                handle.flush()
                os.fsync(handle.fileno())
            return self._commit(temp, file_digest(temp), filename)
        finally:
            temp.unlink(missing_ok=True)

    def _commit(self, temp: Path, digest: str, filename: str) -> StoredArtifact:
        final = self.path_for(digest, filename)
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            temp.chmod(0o444)  # stored artifacts are immutable; a digest must keep meaning its bytes
            os.replace(temp, final)
        return StoredArtifact(digest, final)
