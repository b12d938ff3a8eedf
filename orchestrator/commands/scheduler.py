"""A foreground scheduler for `schedule.retrain`: starts a run on time, one at a time.

Each run is a child `python -m orchestrator run ...` process, so a crash in one run
cannot take the scheduler down, and the pipeline's lock still guards against runs
started by hand. SIGINT/SIGTERM stop it cleanly: a run in progress is asked to stop
(and records itself as interrupted) before the scheduler exits.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ..spec import cron

Runner = Callable[[Sequence[str], threading.Event], int]
GRACE_S = 30.0


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def run_child(argv: Sequence[str], stop: threading.Event) -> int:
    """Run the CLI in a child process; on stop, interrupt it and give it time to record that."""
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", *argv])
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if stop.is_set():
                proc.send_signal(signal.SIGINT)
                try:
                    return proc.wait(timeout=GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    return proc.wait()


class Scheduler:
    def __init__(
        self,
        expression: str,
        argv: Sequence[str],
        max_runs: int | None = None,
        runner: Runner = run_child,
        now: Callable[[], datetime] = _utcnow,
        log: Callable[[str], None] | None = None,
    ):
        self.schedule = cron.parse(expression)
        self.expression = expression
        self.argv = list(argv)
        self.max_runs = max_runs
        self.runner = runner
        self.now = now
        self.stop = threading.Event()
        self._log = log or (lambda line: print(line, flush=True))

    def log(self, text: str) -> None:
        self._log(f"{self.now():%Y-%m-%d %H:%M:%S} UTC  {text}")

    def serve(self) -> int:
        previous = (
            {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
            if threading.current_thread() is threading.main_thread()
            else {}
        )
        try:
            return self._loop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum, frame) -> None:
        self.stop.set()

    def _loop(self) -> int:
        runs = 0
        self.log(f"scheduler started: {self.expression} -> python -m orchestrator {' '.join(self.argv)}")
        while not self.stop.is_set():
            due = self.schedule.next_after(self.now())
            self.log(f"next run at {due:%Y-%m-%d %H:%M} UTC")
            while not self.stop.is_set() and self.now() < due:
                self.stop.wait(min(30.0, max(0.05, (due - self.now()).total_seconds())))
            if self.stop.is_set():
                break
            started = time.monotonic()
            self.log("run starting")
            code = self.runner(self.argv, self.stop)
            took = time.monotonic() - started
            self.log(f"run {_outcome(code)} (exit {code}) after {took:.1f} s")
            runs += 1
            missed = self._missed(due)
            if missed:
                self.log(f"skipped {missed} start time{'s' if missed != 1 else ''} while that run was going")
            if self.max_runs is not None and runs >= self.max_runs:
                break
        self.log("scheduler stopped")
        return 0

    def _missed(self, due: datetime) -> int:
        count, moment, now = 0, due, self.now()
        while count < 1000:
            moment = self.schedule.next_after(moment)
            if moment > now:
                return count
            count += 1
        return count


def _outcome(code: int) -> str:
    return {
        0: "succeeded",
        1: "failed",
        2: "refused (bad input)",
        3: "kept the live model (gate)",
        130: "interrupted",
    }.get(code, "ended")
