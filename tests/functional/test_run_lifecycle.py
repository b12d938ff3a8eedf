"""run / plan / status / history / destroy end to end, in-process, with the fake target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.fakes import FakeTarget, calls

TARGETS = {"local": FakeTarget}


def run(*argv: str) -> int:
    return main(list(argv), targets=TARGETS)


def status(project: Path, capsys) -> dict:
    capsys.readouterr()
    assert run("status", str(project / "pipeline.yaml"), "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_first_run_runs_every_step_in_dependency_order(project, capsys):
    assert run("run", str(project / "pipeline.yaml")) == 0
    ops = [c["op"] for c in calls(project / ".orchestrator")]
    assert ops == ["train", "deploy", "api", "website"]
    # references were resolved from the outputs of earlier steps
    site = calls(project / ".orchestrator")[-1]
    assert site["config"] == {"apiUrl": "fake://api/prod"}
    doc = status(project, capsys)
    assert doc["pipeline"] == "demo"
    assert doc["run"]["status"] == "succeeded"
    assert doc["steps"]["deploy"]["status"] == "succeeded"
    assert doc["steps"]["deploy"]["outputs"]["endpoint_name"] == "demo-deploy"
    assert set(doc["steps"]) == {"train", "deploy", "api", "site"}


def test_second_run_skips_everything_and_prints_nothing_to_do(project, capsys):
    spec = str(project / "pipeline.yaml")
    assert run("run", spec) == 0
    capsys.readouterr()
    assert run("run", spec) == 0
    err = capsys.readouterr().err
    assert "Nothing to do: every step is up to date." in err
    assert len(calls(project / ".orchestrator")) == 4  # no new target calls


def test_changed_code_replaces_the_step_and_its_dependents(project, capsys):
    spec = str(project / "pipeline.yaml")
    assert run("run", spec) == 0
    (project / "train.py").write_text("print('accuracy=0.95')\n")
    capsys.readouterr()
    assert run("plan", spec) == 0
    out = capsys.readouterr().out
    assert "~ train   replace  code changed: train.py" in out
    # each dependent's fingerprint holds its upstream's, so the change is named step by step
    assert "~ deploy  replace  upstream changed: train\n" in out
    assert "~ api     replace  upstream changed: deploy\n" in out
    assert "~ site    replace  upstream changed: api\n" in out
    assert run("run", spec) == 0
    # the API and site take only the endpoint's name from upstream, which did not change: kept
    assert [c["op"] for c in calls(project / ".orchestrator")][4:] == ["train", "deploy"]
    capsys.readouterr()
    assert run("plan", spec, "--exit-code") == 0  # and the pipeline has settled


def test_failed_step_records_the_failure_and_resume_picks_up_there(project, capsys):
    spec = str(project / "pipeline.yaml")
    state = project / ".orchestrator"
    state.mkdir()
    (state / "fail-deploy").write_text("capacity error: no ml.t2.medium left")
    assert run("run", spec) == 1
    err = capsys.readouterr().err
    assert "run 1 failed at step 'deploy': capacity error: no ml.t2.medium left" in err
    assert f"resume with:\n  python -m orchestrator run {spec}" in err
    doc = status(project, capsys)
    assert doc["run"]["status"] == "failed"
    assert doc["run"]["failed_step"] == "deploy"
    assert doc["steps"]["train"]["status"] == "succeeded"
    assert doc["steps"]["deploy"]["status"] == "failed"
    assert doc["steps"]["deploy"]["error"].startswith("capacity error")
    assert doc["steps"]["api"]["status"] == "pending"

    (state / "fail-deploy").unlink()
    capsys.readouterr()
    assert run("run", spec) == 0
    err = capsys.readouterr().err
    assert "= train" in err and "unchanged since run 1" in err
    assert "resumes: it failed in run 1" in err
    ops = [c["op"] for c in calls(state)]
    assert ops == ["train", "deploy", "deploy", "api", "website"]


def test_force_reruns_a_step_and_what_depends_on_it(project, capsys):
    spec = str(project / "pipeline.yaml")
    assert run("run", spec) == 0
    assert run("run", spec, "--force", "train") == 0
    ops = [c["op"] for c in calls(project / ".orchestrator")]
    # a new model is deployed; the API and site only use the endpoint's name, which did not change
    assert ops[4:] == ["train", "deploy"]
    capsys.readouterr()
    assert run("history", spec, "--json") == 0
    history = json.loads(capsys.readouterr().out)
    statuses = {s["step"]: s["status"] for s in history["runs"][0]["steps"]}
    assert statuses == {"train": "succeeded", "deploy": "succeeded", "api": "kept", "site": "kept"}


def test_force_of_unknown_step_is_a_usage_error(project, capsys):
    assert run("run", str(project / "pipeline.yaml"), "--force", "trian") == 2
    err = capsys.readouterr().err
    assert "error: --force trian: no step named 'trian'" in err
    assert "hint: did you mean 'train'?" in err


def test_destroy_removes_everything_in_reverse_order(project, capsys):
    spec = str(project / "pipeline.yaml")
    assert run("run", spec) == 0
    capsys.readouterr()
    assert run("destroy", spec, "--yes") == 0
    assert "Destroyed 4 steps of pipeline 'demo'." in capsys.readouterr().out
    destroyed = [c["step"] for c in calls(project / ".orchestrator") if c["op"] == "destroy"]
    assert destroyed == ["site", "api", "deploy", "train"]
    doc = status(project, capsys)
    assert all(s["outputs"] == {} for s in doc["steps"].values())
    assert run("destroy", spec) == 0
    assert "Nothing to destroy" in capsys.readouterr().out


def test_removed_step_is_planned_as_delete(project, capsys):
    spec = project / "pipeline.yaml"
    assert run("run", str(spec)) == 0
    text = spec.read_text()
    spec.write_text(text[: text.index("  site:")])
    capsys.readouterr()
    assert run("plan", str(spec), "--format", "json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(o["step"], o["action"]) for o in plan["ops"]] == [
        ("train", "skip"),
        ("deploy", "skip"),
        ("api", "skip"),
        ("site", "delete"),
    ]
    assert plan["ops"][-1]["reason"] == "removed from the spec"
    assert run("run", str(spec)) == 0
    assert calls(project / ".orchestrator")[-1]["op"] == "destroy"


def test_preflight_error_changes_nothing(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "preflight-error").write_text("no credentials")
    assert run("run", str(project / "pipeline.yaml")) == 2
    assert "error: no credentials\n  hint: fix the fake" in capsys.readouterr().err
    assert calls(state) == []


def test_plan_exit_code_reports_changes(project, capsys):
    spec = str(project / "pipeline.yaml")
    assert run("plan", spec, "--exit-code") == 3
    assert run("run", spec) == 0
    assert run("plan", spec, "--exit-code") == 0


def test_plan_of_a_pipeline_that_never_ran_creates_no_state(project, capsys):
    assert run("plan", str(project / "pipeline.yaml")) == 0
    assert not (project / ".orchestrator").exists()
    out = capsys.readouterr().out
    assert "+ train   run      new step" in out
    assert out.rstrip().endswith("4 to run, 0 to replace, 0 unchanged, 0 to delete.")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_plan_formats(project, capsys, fmt):
    assert run("plan", str(project / "pipeline.yaml"), "--format", fmt) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["counts"] == {"run": 4, "replace": 0, "skip": 0, "delete": 0}
    elif fmt == "markdown":
        assert out.startswith("### orchestrator plan: `demo` (target `local`)")
        assert "| + | `train` | training | **run** | new step |" in out
    else:
        assert out.startswith("Plan for pipeline 'demo' (target local, state .orchestrator):")


def test_markdown_plan_marks_billed_steps_on_aws(project, capsys):
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text() + AWS_SETTINGS)
    assert run("plan", str(spec), "--format", "markdown", "--target", "aws") == 0
    out = capsys.readouterr().out
    assert "**run** :moneybag: billed" in out
    assert "Steps that start billed SageMaker resources: `train`, `deploy`." in out


AWS_SETTINGS = """\
aws:
  role_arn: arn:aws:iam::123456789012:role/SageMakerExecution
  bucket: my-ml-artifacts
"""


def test_target_rules_apply_to_the_target_in_use_not_only_the_one_the_spec_names(project, capsys):
    """`--target aws` checks the aws settings the spec (written for local) lacks, with their location."""
    assert run("plan", str(project / "pipeline.yaml"), "--target", "aws") == 2
    err = capsys.readouterr().err
    assert "pipeline.yaml:1:1: error: target: target aws needs aws.bucket\n" in err
    assert "pipeline.yaml:1:1: error: target: target aws needs aws.role_arn\n" in err


def test_status_before_any_run(project, capsys):
    assert run("status", str(project / "pipeline.yaml")) == 0
    assert "Pipeline 'demo' has not run yet." in capsys.readouterr().out
    doc = status(project, capsys)
    assert doc == {
        "pipeline": "demo",
        "run": None,
        "steps": {
            name: {"kind": kind, "status": "pending", "outputs": {}, "metrics": {}, "run": None, "error": None}
            for name, kind in [("train", "training"), ("deploy", "endpoint"), ("api", "api"), ("site", "website")]
        },
    }


def test_history_shows_runs_steps_timings_and_metrics(project, capsys):
    spec = str(project / "pipeline.yaml")
    assert run("run", spec) == 0
    capsys.readouterr()
    assert run("history", spec) == 0
    out = capsys.readouterr().out
    assert out.startswith("run 1  succeeded")
    assert "train" in out and "accuracy=0.9" in out
    assert "live models:" in out and "deploy" in out
