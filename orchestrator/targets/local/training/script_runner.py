"""Running a training script: its own process group, streamed lines, metrics, timeouts.

The script's stdout and stderr reach the reporter, the log file and the metric
regexes line by line as they are printed; a timeout or Ctrl-C stops the whole
process group, as StopTrainingJob stops a container. The group is led by a watchdog
(job_watchdog.py) that stops it when this process dies, however it dies.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ....spec.models import Metric
from ...base import Reporter, StepFailed
from ..logbook import LogWriter
from . import job_watchdog, running

STDERR_TAIL_LINES = 20
STOP_GRACE_S = 2.0  # between SIGTERM and SIGKILL when a job is stopped
EXIT_DRAIN_S = 1.0  # how long to keep reading after the script exits (grandchildren may hold the pipes)


class MetricParser:
    """Applies the step's metric regexes to each log line; the last value of each wins."""

    def __init__(self, metrics: list[Metric]):
        self.metrics = metrics
        self.values: dict[str, float] = {}
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for metric in metrics:
            try:
                self._patterns.append((metric.name, re.compile(metric.regex)))
            except re.error as exc:
                raise StepFailed(f"metric {metric.name}: regex {metric.regex!r} is not valid: {exc}") from exc

    def feed(self, line: str) -> None:
        for name, pattern in self._patterns:
            for match in pattern.finditer(line):
                text = match.group(1) if pattern.groups else match.group(0)
                try:
                    self.values[name] = float(text)
                except (TypeError, ValueError):
                    continue

    def results(self) -> dict[str, float]:
        """The values found, in the spec's order (lines from stdout and stderr may interleave)."""
        return {metric.name: self.values[metric.name] for metric in self.metrics if metric.name in self.values}

    def missing(self) -> list[Metric]:
        return [metric for metric in self.metrics if metric.name not in self.values]


@dataclass
class ScriptOutcome:
    returncode: int | None
    duration_s: float
    timed_out: bool = False
    stderr_tail: list[str] = field(default_factory=list)


def run_script(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    log_file: Path,
    max_runtime_s: float,
    metrics: MetricParser,
    reporter: Reporter,
    pid_file: Path | None = None,
    events: LogWriter | None = None,
) -> ScriptOutcome:
    """Run the script, streaming its lines to the reporter, the log file and the metric parser.

    While it runs, `pid_file` records its process group (see running.py). `events` (the job's
    log in the local cloud's logbook, read by `logs`) gets each line with its time; both files
    get them with the step's environment values masked."""
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            [sys.executable, job_watchdog.__file__, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,  # held open by this process only: its end is the watchdog's signal
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise StepFailed(f"could not start the training script: {exc}") from exc
    if pid_file is not None:
        running.record(pid_file, process.pid)
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", lines), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", lines), daemon=True),
    ]
    for reader in readers:
        reader.start()
    outcome = ScriptOutcome(returncode=None, duration_s=0.0)
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    deadline = started + max_runtime_s
    try:
        with log_file.open("w", encoding="utf-8") as log:
            _follow(process, lines, log, tail, deadline, outcome, metrics, reporter, events)
        outcome.returncode = _wait(process, deadline, outcome)
    except BaseException:  # Ctrl-C, or a reporter that raised: the job must not outlive us
        _stop(process)
        _close(process, pid_file)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=1.0)
    _kill_group(process, signal.SIGKILL)  # whatever the script left running, as a container's end would
    _close(process, pid_file)
    outcome.duration_s = time.monotonic() - started
    outcome.stderr_tail = list(tail)
    return outcome


def _follow(
    process: subprocess.Popen[bytes],
    lines: queue.Queue[tuple[str, str | None]],
    log: IO[str],
    tail: deque[str],
    deadline: float,
    outcome: ScriptOutcome,
    metrics: MetricParser,
    reporter: Reporter,
    events: LogWriter | None = None,
) -> None:
    open_streams = 2
    exited_at: float | None = None
    while open_streams:
        now = time.monotonic()
        if not outcome.timed_out and now >= deadline:
            outcome.timed_out = True
            _stop(process)
        try:
            stream, line = lines.get(timeout=0.1)
        except queue.Empty:
            if exited_at is None and process.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > EXIT_DRAIN_S:
                return
            continue
        if line is None:
            open_streams -= 1
            continue
        log.write(f"{events.redact(line) if events else line}\n")
        log.flush()
        if events is not None:
            events.write(line, stream=stream)
        if stream == "stderr":
            tail.append(line)
        metrics.feed(line)
        reporter.log(line)


def _wait(process: subprocess.Popen[bytes], deadline: float, outcome: ScriptOutcome) -> int:
    """The exit status, even for a script that closed its output early and kept running."""
    try:
        return process.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        outcome.timed_out = True
        _stop(process)
        return process.wait()


def _pump(pipe: IO[bytes], stream: str, sink: queue.Queue[tuple[str, str | None]]) -> None:
    with pipe:
        for raw in iter(pipe.readline, b""):
            sink.put((stream, raw.decode("utf-8", errors="replace").rstrip("\r\n")))
    sink.put((stream, None))


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the job's process group, as SageMaker's StopTrainingJob does; SIGKILL what lingers."""
    _kill_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(process, signal.SIGKILL)
    process.wait()


def _close(process: subprocess.Popen[bytes], pid_file: Path | None) -> None:
    if process.stdin is not None:
        process.stdin.close()
    if pid_file is not None:
        pid_file.unlink(missing_ok=True)


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
