"""A daemon whose folder is deleted (`rm -rf .orchestrator`) stops, with every process it started."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from orchestrator.targets.local.daemon.client import pid_alive
from orchestrator.targets.local.daemon.main import HOME_CHECK_S

from .test_daemon import EXPECTED, answers, deploy_all


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, however deep (endpoint groups run in sessions of their own)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(children - found)
            found |= children
    return found


@pytest.mark.parametrize("deleted", ["state folder", "project folder"])
def test_deleting_the_folder_stops_the_daemon_its_services_and_their_processes(daemons, files, tmp_path, deleted):
    client = daemons.new("project/.orchestrator/local")
    ports = deploy_all(client, files)
    assert answers(ports) == EXPECTED  # an endpoint group and a Lambda worker are running
    pid = client.info()["pid"]
    control = client.info()["port"]
    children = descendants(pid)
    assert len(children) >= 3, "the endpoint's supervisor, its worker and a Lambda worker"
    shutil.rmtree(tmp_path / "project" if deleted == "project folder" else client.home.root.parent)
    deadline = time.monotonic() + HOME_CHECK_S + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(pid)
    assert [child for child in children if pid_alive(child)] == []
    for port in (*ports.values(), control):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert not client.home.root.exists()  # nothing made it again on the way out


def test_the_daemon_lifts_its_open_file_limit_to_the_hard_one():
    """Every service may hold MAX_CONNECTIONS connections: a 1024 soft limit would run out first."""
    code = (
        "import resource\n"
        "from orchestrator.targets.local.daemon.main import raise_open_file_limit\n"
        "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (min(512, hard), hard))\n"
        "returned = raise_open_file_limit()\n"
        "print(*returned, *resource.getrlimit(resource.RLIMIT_NOFILE), resource.RLIM_INFINITY)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    returned_soft, returned_hard, soft, hard, infinity = map(int, out.split())
    assert (returned_soft, returned_hard) == (soft, hard)
    assert soft == (hard if hard != infinity else max(512, 65536))  # lifted from 512, not left there
