"""Endpoint autoscaling on the local target: a real run, real traffic, and the worker count following it.

With `autoscaling`, an endpoint starts at `min` workers; sustained requests over
`target_invocations_per_instance` a minute per worker bring more (up to `max`, within
this machine's cores), and when the traffic stops it goes back to `min`. The endpoint's
log says each change; the plan sees an edited policy as a config change.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request

import pytest

from orchestrator.cli import main
from tests.local.project_files import threshold_model

pytestmark = pytest.mark.slow

SPEC = """\
version: 1
name: scaled
steps:
  deploy:
    type: endpoint
    model: model-v1.tar.gz
    instance: {type: ml.t2.medium}
    autoscaling: {min: 1, max: 4, target_invocations_per_instance: 60, scale_in_cooldown_s: 0, scale_out_cooldown_s: 0}
"""


def live(capsys, spec) -> dict:
    capsys.readouterr()
    assert main(["status", str(spec), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["steps"]["deploy"]["live"]


def wait_for_workers(capsys, spec, count: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        figures = live(capsys, spec)
        if figures["workers"] == count or time.monotonic() > deadline:
            return figures
        time.sleep(0.5)


@pytest.fixture
def deployed(tmp_path):
    threshold_model(tmp_path, "model-v1", (0, 1))
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    try:
        assert main(["run", "--quiet", str(spec)]) == 0
        yield spec
    finally:
        main(["destroy", str(spec), "--yes"])


def test_the_worker_count_follows_the_request_rate_between_min_and_max(deployed, capsys):
    spec = deployed
    capsys.readouterr()
    assert main(["status", str(spec), "--json"]) == 0
    url = json.loads(capsys.readouterr().out)["steps"]["deploy"]["outputs"]["url"]
    assert live(capsys, spec)["workers"] == 1
    stop = threading.Event()

    def load() -> None:  # about 20 requests a second: 1,200 a minute against a target of 60 per worker
        while not stop.is_set():
            request = urllib.request.Request(url, b'{"instances": [[2.0]]}', {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
            time.sleep(0.05)

    sender = threading.Thread(target=load, daemon=True)
    sender.start()
    try:
        busy = wait_for_workers(capsys, spec, min(4, os.cpu_count() or 1))
    finally:
        stop.set()
        sender.join(timeout=30)
    assert busy["workers"] == min(4, os.cpu_count() or 1)  # max, within this machine's cores
    assert busy["requests"] > 0
    idle = wait_for_workers(capsys, spec, 1)
    assert idle["workers"] == 1
    capsys.readouterr()
    assert main(["logs", str(spec), "deploy", "--json"]) == 0
    messages = [json.loads(line)["message"] for line in capsys.readouterr().out.splitlines()]
    assert f"endpoint scaled-deploy: scaled to {busy['workers']} worker(s)" in messages
    assert "endpoint scaled-deploy: scaled to 1 worker(s)" in messages


def test_the_plan_sees_a_changed_policy(deployed, capsys):
    spec = deployed
    spec.write_text(SPEC.replace("target_invocations_per_instance: 60", "target_invocations_per_instance: 90"))
    capsys.readouterr()
    assert main(["plan", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "deploy  replace  config changed: autoscaling" in out, out
