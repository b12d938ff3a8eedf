"""Ctrl-C during training stops the job and reaches the caller as KeyboardInterrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from .processes import wait_until_gone

REPO_ROOT = Path(__file__).resolve().parents[2]

RUNNER = """
    import sys
    from pathlib import Path
    from conftest import Project
    from orchestrator.targets.local.training.job import run_training

    project = Project(Path(sys.argv[1]))
    step = project.step(entry_point="train.py")
    try:
        run_training(step, project.context(step), project.home)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        raise SystemExit(130)
"""


def test_ctrl_c_kills_the_training_script_and_is_re_raised(project):
    project.write(
        "train.py",
        r"""
        import os, time
        open(os.path.join(os.path.dirname(__file__), "script.pid"), "w").write(str(os.getpid()))
        time.sleep(60)
    """,
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(Path(__file__).parent)])}
    runner = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(RUNNER), str(project.root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = project.root / "script.pid"
    deadline = time.monotonic() + 15
    while not pid_file.exists() or not pid_file.read_text():
        assert runner.poll() is None, runner.communicate()
        assert time.monotonic() < deadline, "the training script never started"
        time.sleep(0.05)
    script_pid = int(pid_file.read_text())

    runner.send_signal(signal.SIGINT)
    stdout, stderr = runner.communicate(timeout=15)

    assert runner.returncode == 130, stderr
    assert stdout == "interrupted\n"
    assert wait_until_gone(script_pid, timeout_s=1.0)
