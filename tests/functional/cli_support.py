"""What the functional tests share: the CLI with fake targets, in-process or as a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.cli import main
from tests.fakes import FakeTarget, calls

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"local": FakeTarget, "aws": FakeTarget}


def run(*argv: str) -> int:
    return main(list(argv), targets=TARGETS)


RUNNER = (
    "import sys; from orchestrator.cli import main; from tests.fakes import FakeTarget; "
    "sys.exit(main(sys.argv[1:], targets={'local': FakeTarget}))"
)


def start(project: Path, *argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, *argv, str(project / "pipeline.yaml")],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_hang(state: Path, timeout: float = 30, step: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not any(c["op"] == "hang" and step in (None, c["step"]) for c in calls(state)):
        assert time.monotonic() < deadline, "the run never reached the hanging step"
        time.sleep(0.05)
