"""A project folder run with the real CLI on the local target; destroy always runs after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 180


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@dataclass
class CliProject:
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orchestrator", *args],
            cwd=self.root,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )

    def status(self) -> dict:
        done = self.cli("status", "pipeline.yaml", "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    @property
    def home(self) -> Path:
        return self.root / ".orchestrator" / "local"


@pytest.fixture
def cli_project(tmp_path):
    project = CliProject(tmp_path / "project")
    project.root.mkdir()
    yield project
    if (project.root / "pipeline.yaml").exists() and (project.root / ".orchestrator").exists():
        project.cli("destroy", "pipeline.yaml", "--yes")
