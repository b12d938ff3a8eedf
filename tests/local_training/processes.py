"""Whether a process is still alive, for tests that check a stopped job left nothing running."""

from __future__ import annotations

import time
from pathlib import Path


def is_running(pid: int) -> bool:
    """A zombie counts as gone: it has stopped, only its parent has not collected it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_until_gone(pid: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not is_running(pid)
