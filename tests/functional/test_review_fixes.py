"""Behaviour at the edges of a pipeline's life: switching targets, renames, secrets, kills, rejected models."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.fakes import FakeTarget, calls

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"local": FakeTarget, "aws": FakeTarget}


def run(*argv: str) -> int:
    return main(list(argv), targets=TARGETS)


def test_one_state_tracks_one_target(project, capsys):
    spec = str(project / "pipeline.yaml")
    assert run("run", spec) == 0
    capsys.readouterr()
    assert run("run", spec, "--target", "aws") == 2
    err = capsys.readouterr().err
    assert "error: pipeline 'demo' is deployed on target local; this state cannot also track aws" in err
    assert "hint: destroy it first (python -m orchestrator destroy" in err and "--target local)" in err
    # destroy acts on the target that made the resources, whatever the spec says now
    (project / "pipeline.yaml").write_text(
        (project / "pipeline.yaml")
        .read_text()
        .replace(
            "name: demo\n", "name: demo\ntarget: aws\naws: {role_arn: 'arn:aws:iam::123456789012:role/sm', bucket: b}\n"
        )
    )
    assert run("destroy", spec, "--yes") == 0
    assert len([c for c in calls(project / ".orchestrator") if c["op"] == "destroy"]) == 4
    assert run("run", spec) == 0  # now aws may take over


def test_renamed_step_keeps_the_resource_the_new_name_now_owns(project, capsys):
    spec = project / "pipeline.yaml"
    text = spec.read_text().replace(
        "    instance: {type: ml.t2.medium}\n", "    instance: {type: ml.t2.medium}\n    endpoint_name: demo-live\n"
    )
    spec.write_text(text)
    assert run("run", str(spec)) == 0
    spec.write_text(text.replace("  deploy:\n", "  serve:\n").replace("steps.deploy.", "steps.serve."))
    capsys.readouterr()
    assert run("run", str(spec)) == 0
    err = capsys.readouterr().err
    assert "deploy destroyed" in err and "left in place: step 'serve' now owns it (endpoint_name demo-live)" in err
    assert not [c for c in calls(project / ".orchestrator") if c["op"] == "destroy"]


def test_a_rejected_model_settles_the_pipeline(project, capsys):
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    instance: {type: ml.t2.medium}\n",
            "    instance: {type: ml.t2.medium}\n    promote_when: {metric: accuracy, beats_live: true}\n",
        )
    )
    state = project / ".orchestrator"
    state.mkdir()
    assert run("run", str(spec)) == 0
    assert run("run", str(spec), "--force", "train", "--fail-on-reject") == 3  # 0.9 does not beat 0.9
    capsys.readouterr()
    assert run("plan", str(spec), "--exit-code") == 0  # nothing left to do: the verdict is recorded
    assert run("run", str(spec), "--fail-on-reject") == 0


def test_plan_compares_s3_inputs_with_the_last_runs_listing(project, capsys):
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace("inputs: {train: data.csv}", "inputs: {train: data.csv, extra: 's3://b/x/'}")
    )
    state = project / ".orchestrator"
    state.mkdir()
    (state / "s3-listing").write_text("etag-1")
    assert run("run", str(spec)) == 0
    capsys.readouterr()
    assert run("plan", str(spec), "--exit-code", "--target", "local") == 0  # not a false, billed retrain
    (state / "s3-listing").write_text("etag-2")
    assert run("run", str(spec)) == 0
    assert "train   replace  data changed: s3://b/x/" in capsys.readouterr().err


def test_a_target_error_mid_run_is_a_failed_run_with_a_resume_command(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "target-error-deploy").write_text("the security token included in the request is expired")
    assert run("run", str(project / "pipeline.yaml")) == 1
    err = capsys.readouterr().err
    assert "run 1 failed at step 'deploy': the security token included in the request is expired" in err
    assert "hint: renew the credentials" in err
    assert "resume with:\n  python -m orchestrator run" in err


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


def wait_for_hang(state: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not any(c["op"] == "hang" for c in calls(state)):
        assert time.monotonic() < deadline, "the run never reached the hanging step"
        time.sleep(0.05)


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


def test_secrets_from_the_environment_stay_out_of_the_state(project, capsys, monkeypatch):
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "        endpoint: ${steps.deploy.outputs.endpoint_name}\n",
            "        endpoint: ${steps.deploy.outputs.endpoint_name}\n        environment: {API_TOKEN: '${env:DEMO_TOKEN}'}\n",
        )
    )
    monkeypatch.setenv("DEMO_TOKEN", "s3cr3t-value-123")
    assert run("run", str(spec)) == 0
    state = project / ".orchestrator"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for file in state.rglob("*"):
        if file.is_file() and file.name != "calls.jsonl":  # the fake's own log of what it was given
            assert b"s3cr3t-value-123" not in file.read_bytes(), file
    monkeypatch.setenv("DEMO_TOKEN", "rotated-value-456")
    capsys.readouterr()
    assert run("plan", str(spec)) == 0
    assert "api     replace  a value from ${env:...} changed" in capsys.readouterr().out
    # commands that only read state do not need the variables
    monkeypatch.delenv("DEMO_TOKEN")
    assert run("status", str(spec)) == 0
    assert run("run", str(spec)) == 2


def test_destroy_without_a_terminal_needs_yes(project, capsys, monkeypatch):
    assert run("run", str(project / "pipeline.yaml")) == 0
    with open(os.devnull) as devnull:
        monkeypatch.setattr(sys, "stdin", devnull)
        capsys.readouterr()
        assert run("destroy", str(project / "pipeline.yaml")) == 2
    assert "error: destroy removes everything the pipeline deployed; confirm with --yes" in capsys.readouterr().err


def test_a_helper_module_beside_the_entry_point_counts_as_code(project, capsys):
    (project / "models").mkdir()
    (project / "train.py").rename(project / "models" / "train.py")
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("entry_point: train.py", "entry_point: models/train.py"))
    assert run("run", str(spec)) == 0
    (project / "models" / "features.py").write_text("SCALE = 2\n")
    capsys.readouterr()
    assert run("plan", str(spec)) == 0
    assert "train   replace  code changed: models/features.py" in capsys.readouterr().out


@pytest.mark.parametrize("source", [".", ".orchestrator"])
def test_a_website_cannot_publish_the_project_or_its_state(project, capsys, source):
    (project / ".orchestrator").mkdir(exist_ok=True)
    (project / ".orchestrator" / "index.html").write_text("x")
    (project / "index.html").write_text("x")
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("    source: web\n", f"    source: '{source}'\n"))
    assert run("validate", str(spec)) == 2
    assert "would publish the project folder, or the state folder inside it" in capsys.readouterr().err


def test_a_dead_service_is_redeployed_even_when_only_its_upstream_changed(project, capsys):
    spec = project / "pipeline.yaml"
    assert run("run", str(spec)) == 0
    (project / ".orchestrator" / "dead-demo-deploy").write_text("")  # the endpoint died
    spec.write_text(spec.read_text().replace("{C: 1.0}", "{C: 1.0, unused: 1}"))
    capsys.readouterr()
    assert run("run", str(spec)) == 0
    err = capsys.readouterr().err
    assert "deploy  replace  upstream changed: train; recorded in run 1 but no longer running" in err
    assert [c["op"] for c in calls(project / ".orchestrator")][4:] == ["train", "deploy"]


def test_destroy_after_a_failed_training_has_nothing_to_do(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "fail-train").write_text("bad data")
    assert run("run", str(project / "pipeline.yaml")) == 1
    capsys.readouterr()
    assert run("destroy", str(project / "pipeline.yaml"), "--yes") == 0
    assert "Nothing to destroy: pipeline 'demo' has nothing deployed." in capsys.readouterr().out


def test_redeploying_the_live_model_is_not_gated(project, capsys):
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    instance: {type: ml.t2.medium}\n",
            "    instance: {type: ml.t2.medium}\n    promote_when: {metric: accuracy, beats_live: true}\n",
        )
    )
    assert run("run", str(spec)) == 0
    capsys.readouterr()
    assert run("run", str(spec), "--force", "deploy") == 0
    assert "rejected" not in capsys.readouterr().err
    assert [c["op"] for c in calls(project / ".orchestrator")].count("deploy") == 2


def test_main_restores_the_sigterm_handler(project):
    before = signal.getsignal(signal.SIGTERM)
    assert run("validate", str(project / "pipeline.yaml")) == 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_destroy_does_not_need_deploy_time_secrets(project, capsys, monkeypatch):
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("    config:\n", "    config:\n      token: '${env:DEMO_SITE_TOKEN}'\n"))
    monkeypatch.setenv("DEMO_SITE_TOKEN", "x")
    assert run("run", str(spec)) == 0
    monkeypatch.delenv("DEMO_SITE_TOKEN")
    capsys.readouterr()
    assert run("destroy", str(spec), "--yes") == 0
    assert "Destroyed 4 steps" in capsys.readouterr().out
