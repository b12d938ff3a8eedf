"""Run an example folder as a user would: a copy of it, the real CLI, the local target.

`deployed_example(name)` copies `examples/<name>/` to a temporary folder, runs
`python -m orchestrator run pipeline.yaml` there and hands back a `DeployedExample`
with the URLs `status --json` reports. Its finalizer always runs `destroy --yes`, and
stops the pipeline's local daemon by its recorded pid if destroy could not, so no
process outlives the test module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_NAMES = (
    "tweet-escalation",
    "review-sentiment",
    "digits-direct",
    "recommender-knn",
    "churn-xgboost",
    "abalone-pipeline",
)
RUN_TIMEOUT_S = 240  # below pytest-timeout's 300 s, so the finalizer still destroys
COMMAND_TIMEOUT_S = 120


def copy_example(name: str, into: Path) -> Path:
    """A fresh copy of `examples/<name>/`, without any state or caches a local run left there."""
    project = into / name
    shutil.copytree(EXAMPLES / name, project, ignore=shutil.ignore_patterns(".orchestrator", "__pycache__"))
    return project


def cli_environment() -> dict[str, str]:
    """This environment, with the repository importable so `python -m orchestrator` works anywhere."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for name in ("SAGEMAKER_ROLE_ARN", "ARTIFACT_BUCKET", "MYSFITS_SITE_ORIGIN"):
        env.pop(name, None)  # the specs' ${env:...:-default} values apply
    return env


def orchestrator(project: Path, *args: str, timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=project,
        env=cli_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def load_module(path: Path) -> ModuleType:
    """Import a file of an example (e.g. its data generator) by path."""
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def port_refuses(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return False
    except OSError:
        return True


@dataclass
class DeployedExample:
    name: str
    project: Path
    run_output: str
    status: dict = field(default_factory=dict)

    def outputs(self, step: str) -> dict:
        return self.status["steps"][step]["outputs"]

    def url(self, step: str) -> str:
        return self.outputs(step)["url"].rstrip("/")

    def urls(self) -> list[str]:
        return [o["url"] for s in self.status["steps"].values() if (o := s.get("outputs") or {}).get("url")]

    def read_status(self) -> dict:
        answer = orchestrator(self.project, "status", "pipeline.yaml", "--json")
        assert answer.returncode == 0, answer.stderr
        return json.loads(answer.stdout)

    def destroy(self) -> subprocess.CompletedProcess:
        return orchestrator(self.project, "destroy", "pipeline.yaml", "--yes", timeout=RUN_TIMEOUT_S)

    def daemon_pid(self) -> int | None:
        try:
            return int(json.loads((self.project / ".orchestrator" / "local" / "daemon.json").read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stop_leftover_daemon(example: DeployedExample) -> None:
    """Last resort when destroy failed: stop the daemon this example's run started, by its pid."""
    pid = example.daemon_pid()
    if pid is None or not process_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)  # its Lambda workers exit when their stdin closes
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if process_alive(pid):
        os.kill(pid, signal.SIGKILL)


def deploy(name: str, tmp_path_factory, request) -> DeployedExample:
    """Run the example end to end; destroy it when the requesting scope ends."""
    project = copy_example(name, tmp_path_factory.mktemp(name))
    example = DeployedExample(name, project, run_output="")

    def tear_down() -> None:
        try:
            example.destroy()
        finally:
            stop_leftover_daemon(example)

    request.addfinalizer(tear_down)
    ran = orchestrator(project, "run", "pipeline.yaml", timeout=RUN_TIMEOUT_S)
    example.run_output = ran.stdout + ran.stderr
    assert ran.returncode == 0, f"`orchestrator run` failed for {name}:\n{example.run_output}"
    example.status = example.read_status()
    return example


def assert_destroyed(example: DeployedExample) -> None:
    """destroy succeeds, status shows no outputs, and nothing answers on the old ports."""
    urls = example.urls()
    pid = example.daemon_pid()
    destroyed = example.destroy()
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    status = example.read_status()
    assert {step: info["outputs"] for step, info in status["steps"].items()} == {s: {} for s in status["steps"]}
    assert urls, "the run reported no URLs"
    for url in urls:
        assert port_refuses(url), f"{url} still accepts connections after destroy"
    if pid is not None:
        assert not process_alive(pid), f"the local daemon (pid {pid}) is still running after destroy"


@pytest.fixture(scope="module")
def deployed_example(tmp_path_factory, request):
    """Factory: `deployed_example("digits-direct")`, shared by the tests of one module."""
    cache: dict[str, DeployedExample] = {}

    def get(name: str) -> DeployedExample:
        if name not in cache:
            cache[name] = deploy(name, tmp_path_factory, request)
        return cache[name]

    return get
