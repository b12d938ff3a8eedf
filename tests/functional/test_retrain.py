"""Retrain and redeploy: the promotion gate, lineage, rollback and the scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.commands.scheduler import Scheduler
from tests.fakes import FakeTarget, calls

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"local": FakeTarget}


def run(*argv: str) -> int:
    return main(list(argv), targets=TARGETS)


@pytest.fixture
def gated(project: Path) -> Path:
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    instance: {type: ml.t2.medium}\n",
            "    instance: {type: ml.t2.medium}\n    promote_when: {metric: accuracy, at_least: 0.8, beats_live: true}\n",
            1,
        )
    )
    (project / ".orchestrator").mkdir()
    return project


def set_accuracy(project: Path, value: float) -> None:
    (project / ".orchestrator" / "accuracy-train").write_text(str(value))


def deployed_models(project: Path) -> list[str]:
    return [c["model"] for c in calls(project / ".orchestrator") if c["op"] == "deploy"]


def test_better_model_is_promoted_worse_one_is_kept_out(gated, capsys):
    spec = str(gated / "pipeline.yaml")
    set_accuracy(gated, 0.85)
    assert run("run", spec) == 0
    assert "promoting: accuracy 0.85 passes; no live model to beat" in capsys.readouterr().err

    set_accuracy(gated, 0.80)
    assert run("run", spec, "--force", "train", "--fail-on-reject") == 3
    err = capsys.readouterr().err
    assert "deploy rejected: not promoted: accuracy 0.8 does not beat the live model's 0.85" in err
    assert "warning: deploy: the new model was not promoted" in err
    assert deployed_models(gated) == ["fake://train/run1/model.tar.gz"]

    set_accuracy(gated, 0.95)
    assert run("run", spec, "--force", "train") == 0
    assert "promoting: accuracy 0.95 beats the live model's 0.85" in capsys.readouterr().err
    assert deployed_models(gated)[-1] == "fake://train/run3/model.tar.gz"

    assert run("history", spec, "--json") == 0
    history = json.loads(capsys.readouterr().out)
    rejected = next(s for s in history["runs"][1]["steps"] if s["step"] == "deploy")
    assert rejected["status"] == "rejected"
    live = history["live_models"]
    assert [(m["run_id"], m["metrics"], m["until"] is None) for m in live] == [
        (3, {"accuracy": 0.95}, True),
        (1, {"accuracy": 0.85}, False),
    ]
    assert live[0]["data_fingerprint"]  # the training data the live model came from


def test_first_model_below_the_floor_fails_the_run(gated, capsys):
    set_accuracy(gated, 0.5)
    assert run("run", str(gated / "pipeline.yaml")) == 1
    err = capsys.readouterr().err
    assert "failed at step 'deploy': not promoted: accuracy 0.5 is below the floor 0.8; no live model to keep" in err
    assert deployed_models(gated) == []


def test_rollback_restores_an_earlier_model_without_retraining(gated, capsys):
    spec = str(gated / "pipeline.yaml")
    set_accuracy(gated, 0.85)
    assert run("run", spec) == 0
    set_accuracy(gated, 0.9)
    assert run("run", spec, "--force", "train") == 0
    trainings = len([c for c in calls(gated / ".orchestrator") if c["op"] == "train"])
    capsys.readouterr()

    assert run("rollback", spec, "--step", "deploy", "--to", "1") == 0
    assert "deploy: the model of run 1 is live again (fake://train/run1/model.tar.gz)." in capsys.readouterr().out
    assert deployed_models(gated)[-1] == "fake://train/run1/model.tar.gz"
    assert len([c for c in calls(gated / ".orchestrator") if c["op"] == "train"]) == trainings

    # the next run leaves the rolled-back model in place
    assert run("run", spec) == 0
    assert deployed_models(gated)[-1] == "fake://train/run1/model.tar.gz"
    capsys.readouterr()
    assert run("status", spec, "--json") == 0
    assert (
        json.loads(capsys.readouterr().out)["steps"]["deploy"]["outputs"]["model"] == "fake://train/run1/model.tar.gz"
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--step", "deploy", "--to", "7"],
            "error: run 7 did not put a model live on 'deploy'\n  hint: runs that deployed it: 1",
        ),
        (["--step", "train", "--to", "1"], "error: 'train' is a training step; rollback works on endpoint steps"),
        (["--step", "deplyo", "--to", "1"], "error: no step named 'deplyo' in"),
        (["--step", "deploy", "--to", "1"], "error: run 1's model is already live on 'deploy'"),
    ],
)
def test_rollback_errors(gated, capsys, argv, message):
    assert run("run", str(gated / "pipeline.yaml")) == 0
    capsys.readouterr()
    assert run("rollback", str(gated / "pipeline.yaml"), *argv) == 2
    assert message in capsys.readouterr().err


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_scheduler_starts_runs_on_time_one_at_a_time():
    clock = Clock(datetime(2026, 11, 22, 2, 59, 30))
    started: list[datetime] = []
    lines: list[str] = []

    def runner(argv, stop):
        started.append(clock.now)
        clock.now += timedelta(minutes=70)  # a slow run: overlaps the next two start times
        return 0

    sched = Scheduler("rate(30 minutes)", ["run", "p.yaml"], max_runs=2, runner=runner, now=clock, log=lines.append)
    sched.stop.wait = lambda timeout: setattr(clock, "now", clock.now + timedelta(seconds=timeout))  # no real sleep
    assert sched.serve() == 0
    assert started == [datetime(2026, 11, 22, 3, 29, 30), datetime(2026, 11, 22, 5, 9, 30)]
    assert "2026-11-22 04:39:30 UTC  skipped 2 start times while that run was going" in lines
    assert lines[-1].endswith("scheduler stopped")


def test_schedule_command_stops_cleanly_on_sigterm(project):
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text() + "schedule:\n  retrain: rate(1 day)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "schedule", str(spec)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    assert "scheduler started: rate(1 day) -> python -m orchestrator run" in first
    assert "next run at" in proc.stdout.readline()
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert proc.stdout.read().strip().endswith("scheduler stopped")


def test_schedule_without_a_schedule_is_a_usage_error(project, capsys):
    assert run("schedule", str(project / "pipeline.yaml")) == 2
    assert "has no schedule\n  hint: add schedule: {retrain: cron(0 3 * * ? *)}" in capsys.readouterr().err


def test_unlock_when_nothing_holds_the_lock(project, capsys):
    assert run("unlock", str(project / "pipeline.yaml")) == 0
    assert "Pipeline 'demo' is not locked." in capsys.readouterr().out


def test_rollback_and_unlock_report_json(gated, capsys):
    spec = str(gated / "pipeline.yaml")
    set_accuracy(gated, 0.85)
    assert run("run", spec) == 0
    set_accuracy(gated, 0.9)
    assert run("run", spec, "--force", "train") == 0
    capsys.readouterr()
    assert run("rollback", spec, "--step", "deploy", "--to", "1", "--json") == 0
    live = json.loads(capsys.readouterr().out)
    assert (live["step"], live["model"], live["metrics"], live["reason"]) == (
        "deploy",
        "fake://train/run1/model.tar.gz",
        {"accuracy": 0.85},
        "rollback to run 1",
    )
    assert run("unlock", spec, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"locked": False, "removed": None}
