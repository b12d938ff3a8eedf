"""The local state folder beside the spec: owner-only, and ignored by git, whichever backend records.

It holds state (SQLite), and with either backend the local target's logs, artifacts and
its local cloud's control token, so no other user of the machine may read it.
"""

from __future__ import annotations

from pathlib import Path


def make_private_folder(folder: Path) -> None:
    """State, artifacts and the local cloud's control token live here: owner only."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)


def ensure_gitignore(folder: Path) -> None:
    """The state folder ignores itself, so it is never committed by accident."""
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
