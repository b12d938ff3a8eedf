"""kill -9 of `run` during a local job, as a user's terminal or the OOM killer would do it.

Shared by the tests and benchmarks/kill_nine.py. The job's script records its pid, writes
one half of its result, waits for a `release` file, then writes the other half with its
pid: a model mixed from two processes shows two pids.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0  # generous: a busy machine may start Python slowly; nothing here measures speed

SCRIPT = r"""
import os, sys, time
from pathlib import Path
here = Path(os.environ["PROJECT_DIR"])
out = Path(os.environ.get("SM_MODEL_DIR") or "/opt/ml/processing/output/result")
(here / "pids").mkdir(exist_ok=True)
(here / "pids" / str(os.getpid())).write_text("")
(out / "first").write_text(str(os.getpid()))
while not (here / "release").exists():
    time.sleep(0.05)
(out / "second").write_text(str(os.getpid()))
"""

SPECS = {
    "training": """
        name: killed
        steps:
          job:
            type: training
            framework: sklearn
            entry_point: job.py
            environment: {PROJECT_DIR: "%s"}
        """,
    "processing": """
        name: killed
        steps:
          job:
            type: processing
            framework: sklearn
            entry_point: job.py
            outputs: [result]
            environment: {PROJECT_DIR: "%s"}
        """,
}


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@dataclass
class Trial:
    root: Path
    kind: str

    def write(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "job.py").write_text(SCRIPT)
        (self.root / "pipeline.yaml").write_text(textwrap.dedent(SPECS[self.kind] % self.root).lstrip())

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "orchestrator", *args, "pipeline.yaml"], cwd=self.root,
                              env=environment(), capture_output=True, text=True, timeout=timeout)  # fmt: skip

    def start_run(self, capture: bool = False) -> subprocess.Popen:
        output = subprocess.PIPE if capture else subprocess.DEVNULL
        return subprocess.Popen([sys.executable, "-m", "orchestrator", "run", "pipeline.yaml"], cwd=self.root,
                                env=environment(), stdout=output, stderr=output, text=True)  # fmt: skip

    def pids(self) -> set[int]:
        folder = self.root / "pids"
        return {int(p.name) for p in folder.iterdir()} if folder.is_dir() else set()

    def wait_for_job(self, known: set[int]) -> int:
        deadline = time.monotonic() + WAIT_S
        while not (self.pids() - known):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        return (self.pids() - known).pop()

    def release(self) -> None:
        (self.root / "release").write_text("")

    def result_pids(self) -> list[str]:
        """The pids in the published result (model.tar.gz, or the processing output's files)."""
        home = self.root / ".orchestrator" / "local"
        [job] = [p for p in (home / "jobs").iterdir() if p.is_dir()]
        if self.kind == "training":
            [archive] = list((home / "s3").rglob("*model.tar.gz*")) or [None]
            if archive is not None and tarfile.is_tarfile(archive):
                with tarfile.open(archive) as tar:
                    return sorted(tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile())
            return sorted((job / "model" / name).read_text() for name in ("first", "second"))
        return sorted((job / "processing" / "output" / "result" / n).read_text() for n in ("first", "second"))


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):  # gone, or gone while being read
        return False
    return state != "Z"


def wait_until_gone(pid: int, timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not is_running(pid)


def kill_nine(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def stop_daemon(trial: Trial) -> None:
    """What destroy leaves to the daemon's record: stop it, so no process outlives a trial."""
    trial.cli("destroy", "--yes")
