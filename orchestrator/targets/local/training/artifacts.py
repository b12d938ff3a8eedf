"""A content-addressed store for packed artifacts: one digest, one file, never rewritten.

A model is named by the sha256 of its `model.tar.gz`, so a `file://` URI recorded in
state never changes meaning, and a retrain that yields the same model stores nothing
new. Packing is `files.pack_folder_tar_gz`, whose bytes depend only on names, content
and exec bits, so that "the same model" really does give the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ....files import file_digest, pack_folder_tar_gz


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
                pack_folder_tar_gz(folder, handle)
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
