"""The local cloud's files under `<state>/local/`: one place names them all.

Both the daemon and its client read these, so the layout lives here and nowhere else.
Writes are atomic (temp file + rename) because a crash mid-write must never leave
a half file that a restarted daemon would trust.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def state_file(self) -> Path:
        """Durable record of every service, so a restarted daemon restores them."""
        return self.root / "services.json"

    @property
    def daemon_file(self) -> Path:
        """Where a running daemon says who it is: pid and control port."""
        return self.root / "daemon.json"

    @property
    def groups_file(self) -> Path:
        """The process group of each endpoint, so a daemon started after a crash ends what the last one left."""
        return self.root / "groups.json"

    @property
    def ports_file(self) -> Path:
        """The ports the last daemon had (kept after it stops), so the next one takes them again."""
        return self.root / "ports.json"

    @property
    def token_file(self) -> Path:
        return self.root / "control.token"

    @property
    def log_file(self) -> Path:
        return self.root / "daemon.log"

    @property
    def lock_file(self) -> Path:
        return self.root / "daemon.lock"

    @property
    def models_dir(self) -> Path:
        """Extracted model archives, one folder per deployment."""
        return self.root / "models"

    @property
    def s3_dir(self) -> Path:
        """The local S3's buckets (storage/layout.py): artifacts, data outputs, website files."""
        return self.root / "s3"

    @property
    def bundles_dir(self) -> Path:
        """Lambda functions' code as deployed: one folder per function and content digest."""
        return self.root / "bundles"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def token(self) -> str:
        """The control API's token, created once with owner-only permissions."""
        self.ensure()
        try:
            if self.token_file.stat().st_mode & 0o077:
                self.token_file.chmod(0o600)  # a copied or restored file must not stay readable by others
            return self.token_file.read_text().strip()
        except FileNotFoundError:
            pass
        token = secrets.token_urlsafe(32)
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token)
        return token


def write_json_atomic(path: Path, data: Any) -> None:
    """Its folder must exist: a daemon whose folder was deleted must not make it again."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
