"""What the serving benchmark reads of its processes in /proc: who they are, the CPU they spent,
the memory they hold. Linux only, as the benchmark is."""

from __future__ import annotations

import os
from pathlib import Path


def memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS of a process, in MB."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Rss", "Pss"):
            kb = float(value.split()[0]) / 1024
            rss, pss = (kb, pss) if name == "Rss" else (rss, kb)
    return rss, pss


def processes() -> list[tuple[int, int, int, str]]:
    """(pid, parent, process group, command line) of every process of this user."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            ppid, pgid = int(fields[1]), int(fields[2])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        found.append((int(entry.name), ppid, pgid, command))
    return found


TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """User and system CPU time of each process so far."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) * TICK_S
    return found


def cpu_per_request(before: dict[int, float], after: dict[int, float], role: dict[int, str], requests: int):
    """CPU ms per request answered, by role, between two cpu_seconds snapshots."""
    spent: dict[str, float] = {}
    for pid, seconds in after.items():
        spent[role[pid]] = spent.get(role[pid], 0.0) + seconds - before.get(pid, 0.0)
    return {name: seconds * 1000 / max(requests, 1) for name, seconds in spent.items()}
