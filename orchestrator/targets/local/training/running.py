"""Which local jobs are running, recorded beside their folders, so a leftover can be stopped.

A job's watchdog stops it when its command dies (job_watchdog.py). This record is the
second line: `<home>/jobs/<job>.pid` names the job's process group while it runs, so the
next run of the same job, or `destroy`, can stop a group that is somehow still there
before anything else writes into that job's folder.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

STOP_GRACE_S = 2.0
GONE_WAIT_S = 5.0


def pid_file(jobs: Path, name: str) -> Path:
    return jobs / f"{name}.pid"


def _started(pid: int) -> str | None:
    """The process's start time since boot (Linux), to tell it from a later process given its pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def record(path: Path, pgid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pgid": pgid, "started": _started(pgid)}))


def _group_alive(pgid: int) -> bool:
    """Something of the group runs. A zombie does not count: it has ended, only its new parent
    has not collected it yet (kill(2) still finds it)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return True  # no /proc (macOS): the signal's answer is all there is
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[2] == str(pgid) and fields[0] != "Z":
                return True
    return False


def live_group(path: Path) -> int | None:
    """The recorded job's process group, if something of it still runs."""
    try:
        data = json.loads(path.read_text())
        pgid = int(data["pgid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    started = _started(pgid)
    if started is not None and data.get("started") not in (None, started):
        return None  # the leader's pid now belongs to another process: not ours
    return pgid if _group_alive(pgid) else None


def stop(path: Path) -> int | None:
    """Stop the recorded job's group if it still runs (SIGTERM, then SIGKILL), wait until it is
    gone, and forget it; returns the group stopped, or None."""
    pgid = live_group(path)
    if pgid is not None:
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, GONE_WAIT_S)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while _group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _group_alive(pgid):
                break
    path.unlink(missing_ok=True)
    return pgid


def stop_step_jobs(home: Path, pipeline: str, step: str) -> str:
    """For `destroy`: stop every job of this step still running, whatever its fingerprint;
    returns a sentence for the destroy message ("" when none ran)."""
    from .job_contract import job_name

    prefix = job_name(pipeline, step, "0" * 12)[:-12]  # the names' stem and its dash
    stopped = stop_all(home / "jobs", prefix)
    return f"; stopped running job {', '.join(stopped)}" if stopped else ""


def stop_all(jobs: Path, prefix: str) -> list[str]:
    """Stop every recorded job whose name starts with `prefix`; returns the names stopped."""
    stopped = []
    for path in sorted(jobs.glob(f"{prefix}*.pid")) if jobs.is_dir() else ():
        if stop(path) is not None:
            stopped.append(path.stem)
    return stopped
