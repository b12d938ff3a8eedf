"""What an endpoint's workers count: requests served, errors, and a latency histogram.

Each worker keeps its own counters and, every half second when they changed, writes
them to `<stats_dir>/<pid>.json` (atomically); the daemon adds up the files of an
endpoint to answer `status` and to scale it. Latencies fall into fixed log-spaced
buckets, so histograms of many workers add up and p50/p99 are read from the sum (to
within one bucket, 25 %). Standard library only.
"""

from __future__ import annotations

import bisect
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

FIRST_BOUND_MS, GROWTH, BUCKETS = 0.25, 1.25, 64  # upper bounds 0.25 ms ... about 40 min
BOUNDS_MS = [FIRST_BOUND_MS * GROWTH**i for i in range(BUCKETS)]
WRITE_INTERVAL_S = 0.5


class WorkerStats:
    """One worker's counters; `record` is called from its event loop and executor threads."""

    def __init__(self, stats_dir: Path | None):
        self.dir = stats_dir
        self.requests = 0
        self.errors = 0
        self.buckets = [0] * (BUCKETS + 1)  # the last one: over the largest bound
        self.started = time.time()
        self._lock = threading.Lock()
        self._written = -1

    def record(self, latency_ms: float, ok: bool) -> None:
        with self._lock:
            self.requests += 1
            self.errors += 0 if ok else 1
            self.buckets[bisect.bisect_left(BOUNDS_MS, latency_ms)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "errors": self.errors,
                "buckets": list(self.buckets),
                "started": self.started,
            }

    def start_writing(self) -> None:
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        threading.Thread(target=self._write_forever, name="stats-writer", daemon=True).start()

    def _write_forever(self) -> None:
        while True:
            self.write()
            time.sleep(WRITE_INTERVAL_S)

    def write(self) -> None:
        snapshot = self.snapshot()
        if snapshot["requests"] == self._written or self.dir is None:
            return
        path = self.dir / f"{os.getpid()}.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(snapshot))
        os.replace(temp, path)
        self._written = snapshot["requests"]


def merged(stats_dir: Path) -> dict[str, Any]:
    """The sum of every worker's counters (those that ended too) of one endpoint."""
    total = {"requests": 0, "errors": 0, "buckets": [0] * (BUCKETS + 1), "started": None}
    for file in stats_dir.glob("*.json") if stats_dir.is_dir() else ():
        try:
            part = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        total["requests"] += int(part.get("requests", 0))
        total["errors"] += int(part.get("errors", 0))
        for i, count in enumerate(part.get("buckets", [])[: BUCKETS + 1]):
            total["buckets"][i] += int(count)
        started = part.get("started")
        if isinstance(started, (int, float)) and (total["started"] is None or started < total["started"]):
            total["started"] = started
    return total


def percentile(buckets: list[int], q: float) -> float | None:
    """The upper bound (ms) of the bucket that holds the q-th quantile; None with no requests."""
    count = sum(buckets)
    if not count:
        return None
    rank, seen = q * count, 0
    for i, n in enumerate(buckets):
        seen += n
        if seen >= rank and n:
            return round(BOUNDS_MS[min(i, BUCKETS - 1)], 2)
    return round(BOUNDS_MS[-1], 2)
