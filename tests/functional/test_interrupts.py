"""A run stopped from outside (SIGTERM, a kill, a target that fails mid-run) is recorded and resumable."""

from __future__ import annotations

import json
import signal

from tests.fakes import calls

from .cli_support import run, start, wait_for_hang


def test_a_target_error_mid_run_is_a_failed_run_with_a_resume_command(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "target-error-deploy").write_text("the security token included in the request is expired")
    assert run("run", str(project / "pipeline.yaml")) == 1
    err = capsys.readouterr().err
    assert "run 1 failed at step 'deploy': the security token included in the request is expired" in err
    assert "hint: renew the credentials" in err
    assert "resume with:\n  python -m orchestrator run" in err


def test_sigterm_stops_a_run_and_records_it_interrupted(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "hang-deploy").write_text("")
    proc = start(project, "run")
    wait_for_hang(state)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 130
    assert run("status", str(project / "pipeline.yaml"), "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["status"] == "interrupted"
    assert doc["steps"]["deploy"]["status"] == "interrupted"


def test_after_a_kill_plan_status_and_destroy_see_the_interrupted_step(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "hang-deploy").write_text("")
    proc = start(project, "run")
    wait_for_hang(state)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    spec = str(project / "pipeline.yaml")
    assert run("plan", spec) == 0
    assert "deploy  run      new step; resumes: it interrupted in run 1" in capsys.readouterr().out
    assert run("status", spec, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["run"]["status"], doc["steps"]["deploy"]["status"]) == ("interrupted", "interrupted")
    # the killed deploy may have made an endpoint before its result was recorded: destroy removes it too
    (state / "hang-deploy").unlink()
    assert run("destroy", spec, "--yes") == 0
    destroyed = [(c["step"], c["outputs"]) for c in calls(state) if c["op"] == "destroy"]
    assert destroyed == [("deploy", None), ("train", {"model": "fake://train/run1/model.tar.gz", "job_name": "train"})]


def test_main_restores_the_sigterm_handler(project):
    before = signal.getsignal(signal.SIGTERM)
    assert run("validate", str(project / "pipeline.yaml")) == 0
    assert signal.getsignal(signal.SIGTERM) is before
