"""A retrain the gate rejects leaves the live endpoint answering, with the live model, throughout.

The example pipeline on the local target, with `promote_when` on its endpoint:
a retrain with a worse hyperparameter runs while a client keeps calling the API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
GATE = "    promote_when: {metric: accuracy, at_least: 0.8, beats_live: true}\n"
QUERY = {"measurements": {"sepal_length": 6.0, "sepal_width": 2.7, "petal_length": 5.1, "petal_width": 1.6}}


def cli(project: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *argv],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )


def ask(url: str) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(QUERY).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_rejected_retrain_keeps_the_live_model_answering(example_project):
    spec = example_project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    instance: {type: ml.t2.medium, count: 1}\n", "    instance: {type: ml.t2.medium, count: 1}\n" + GATE
        )
    )
    try:
        first = cli(example_project, "run", "pipeline.yaml")
        assert first.returncode == 0, first.stderr
        status = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
        url = status["steps"]["api"]["outputs"]["url"] + "/predict"
        live_model = status["steps"]["deploy"]["outputs"]["model"]
        before = ask(url)

        answers, failures, stop = [], [], threading.Event()

        def keep_asking():
            while not stop.is_set():
                try:
                    answers.append(ask(url))
                except Exception as exc:  # any failed request is a finding, not a crash
                    failures.append(repr(exc))
                stop.wait(0.05)  # about 20 requests/s: within the stage's throttle (50/s, as API Gateway's default)

        client = threading.Thread(target=keep_asking)
        client.start()
        try:
            spec.write_text(spec.read_text().replace("C: 2.0", "C: 0.001"))  # a worse model (accuracy 0.80)
            retrain = cli(example_project, "run", "pipeline.yaml", "--fail-on-reject")
        finally:
            stop.set()
            client.join(30)

        assert retrain.returncode == 3, retrain.stderr
        assert "deploy rejected: not promoted: accuracy 0.8 does not beat the live model's 0.9556" in retrain.stderr
        assert failures == []
        assert len(answers) > 10
        assert all(answer == before for answer in answers)  # the live model answered every request
        after = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
        assert after["steps"]["deploy"]["status"] == "rejected"
        assert after["steps"]["deploy"]["outputs"]["model"] == live_model
        assert after["steps"]["train"]["metrics"]["accuracy"] == 0.8
    finally:
        cli(example_project, "destroy", "pipeline.yaml", "--yes")
