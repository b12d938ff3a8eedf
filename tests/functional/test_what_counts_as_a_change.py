"""What makes a step change: its files (helpers beside the script), s3 listings, and what a site may publish."""

from __future__ import annotations

import json

import pytest

from .cli_support import run


def test_plan_compares_s3_inputs_with_the_last_runs_listing(project, capsys):
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace("inputs: {train: data.csv}", "inputs: {train: data.csv, extra: 's3://team-data/x/'}")
    )
    state = project / ".orchestrator"
    state.mkdir()
    (state / "s3-listing").write_text("etag-1")
    assert run("run", str(spec)) == 0
    capsys.readouterr()
    assert run("plan", str(spec), "--exit-code", "--target", "local") == 0  # not a false, billed retrain
    (state / "s3-listing").write_text("etag-2")
    assert run("run", str(spec)) == 0
    assert "train   replace  data changed: s3://team-data/x/" in capsys.readouterr().err


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


def test_plan_says_an_endpoint_moving_to_serverless_is_recreated(project, capsys):
    spec = project / "pipeline.yaml"
    assert run("run", str(spec)) == 0
    spec.write_text(spec.read_text().replace("instance: {type: ml.t2.medium}", "serverless: {memory_mb: 2048}"))
    capsys.readouterr()
    assert run("plan", str(spec)) == 0
    out = capsys.readouterr().out
    assert "deploy  replace  config changed: instance, serverless" in out
    assert "SageMaker cannot change its hosting from instance to serverless in place" in out
    assert run("plan", str(spec), "--format", "json") == 0
    ops = {op["step"]: op for op in json.loads(capsys.readouterr().out)["ops"]}
    assert ops["deploy"]["causes"] == ["config_changed", "recreated"]
    assert "recreated" not in ops["api"]["causes"]


def test_serverless_with_every_default_is_serverless_hosting_too(project, capsys):
    spec = project / "pipeline.yaml"
    assert run("run", str(spec)) == 0
    spec.write_text(spec.read_text().replace("instance: {type: ml.t2.medium}", "serverless: {}"))
    capsys.readouterr()
    assert run("plan", str(spec)) == 0
    assert "SageMaker cannot change its hosting from instance to serverless in place" in capsys.readouterr().out
