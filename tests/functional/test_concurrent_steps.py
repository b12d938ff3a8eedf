"""Independent steps run at the same time, up to --parallelism; failures and Ctrl-C stay recorded."""

from __future__ import annotations

import json
import signal

from tests.fakes import calls

from .cli_support import run, start, wait_for_hang

TWO_TRAININGS = """\
  other:
    type: training
    framework: sklearn
    entry_point: train.py
    inputs: {train: data.csv}
"""


def two_trainings(project):
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("  deploy:\n", TWO_TRAININGS + "  deploy:\n", 1))
    state = project / ".orchestrator"
    state.mkdir(exist_ok=True)
    return str(spec), state


def test_independent_steps_run_at_the_same_time(project, capsys):
    spec, state = two_trainings(project)
    (state / "wait-train").write_text("other")  # train can only finish once other is running too
    (state / "wait-other").write_text("train")
    assert run("run", spec) == 0
    ops = [c["op"] for c in calls(state)]
    assert ops.count("train") == 2 and ops.index("deploy") > max(i for i, op in enumerate(ops) if op == "train")


def test_parallelism_1_runs_one_step_at_a_time_in_plan_order(project, capsys):
    spec, state = two_trainings(project)
    (state / "wait-other").write_text("train")  # fine one by one: train runs first
    assert run("run", spec, "--parallelism", "1") == 0
    assert [c["step"] for c in calls(state)] == ["train", "other", "deploy", "api", "site"]
    for marker in state.glob("started-*"):
        marker.unlink()
    (state / "wait-train").write_text("other")  # both waiting on each other cannot work one by one
    assert run("run", spec, "--parallelism", "1", "--force", "train", "--force", "other") == 1
    assert "train waited for other to start, in vain" in capsys.readouterr().err


def test_a_failure_lets_running_steps_finish_and_starts_nothing_new(project, capsys):
    spec, state = two_trainings(project)
    (state / "fail-train").write_text("the data is empty")
    (state / "delay-other").write_text("0.5")
    (state / "wait-train").write_text("other")
    assert run("run", spec) == 1
    err = capsys.readouterr().err
    assert "run 1 failed at step 'train': the data is empty" in err
    assert sorted(c["step"] for c in calls(state)) == ["other", "train"]  # deploy never started
    capsys.readouterr()
    assert run("status", spec, "--json") == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert (steps["train"]["status"], steps["other"]["status"], steps["deploy"]["status"]) == (
        "failed", "succeeded", "pending"
    )  # fmt: skip
    (state / "fail-train").unlink()
    assert run("run", spec) == 0  # resumes: other is not trained again
    assert [c["step"] for c in calls(state)].count("other") == 1


def test_two_failures_at_once_are_both_reported(project, capsys):
    spec, state = two_trainings(project)
    (state / "fail-train").write_text("no data")
    (state / "fail-other").write_text("no role")
    (state / "wait-train").write_text("other")
    (state / "wait-other").write_text("train")
    assert run("run", spec) == 1
    err = capsys.readouterr().err
    assert "failed at step 'train': no data" in err and "failed at step 'other': no role" in err


def test_sigterm_interrupts_every_running_step(project, capsys):
    spec, state = two_trainings(project)
    (state / "hang-train").write_text("")
    (state / "hang-other").write_text("")
    proc = start(project, "run")
    wait_for_hang(state)
    wait_for_hang(state, step="other")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert proc.returncode == 130
    assert run("status", spec, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["status"] == "interrupted"
    assert (doc["steps"]["train"]["status"], doc["steps"]["other"]["status"]) == ("interrupted", "interrupted")
