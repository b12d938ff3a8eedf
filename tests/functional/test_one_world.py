"""One state records one world: the target that made each resource, and who owns it after a rename."""

from __future__ import annotations

from tests.fakes import calls

from .cli_support import run


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


def rename_endpoint(project, name: str) -> None:
    spec = project / "pipeline.yaml"
    text = spec.read_text()
    if "endpoint_name:" in text:
        text = "\n".join(ln for ln in text.splitlines() if "endpoint_name:" not in ln) + "\n"
    spec.write_text(text.replace("    model: ${steps.train.outputs.model}\n",
                                 f"    model: ${{steps.train.outputs.model}}\n    endpoint_name: {name}\n"))  # fmt: skip


def test_a_renamed_endpoint_removes_the_old_one_once_the_new_one_is_up(project, capsys):
    spec = str(project / "pipeline.yaml")
    rename_endpoint(project, "first")
    assert run("run", spec) == 0
    rename_endpoint(project, "second")
    assert run("run", spec) == 0
    ops = [
        (c["op"], c.get("model") or c.get("outputs", {}).get("endpoint_name")) for c in calls(project / ".orchestrator")
    ]
    deploys = [i for i, (op, _) in enumerate(ops) if op == "deploy"]
    retire = ops.index(("retire", "first"))
    assert retire > deploys[-1]  # the new endpoint came up before the old one went
    assert "renamed from first: removed first" in capsys.readouterr().err
    capsys.readouterr()
    assert run("plan", spec, "--exit-code") == 0


def test_an_old_name_that_cannot_be_removed_is_removed_by_the_next_run(project, capsys):
    spec = str(project / "pipeline.yaml")
    rename_endpoint(project, "first")
    assert run("run", spec) == 0
    rename_endpoint(project, "second")
    (project / ".orchestrator" / "retire-fails-deploy").write_text("")
    assert run("run", spec) == 0
    err = capsys.readouterr().err
    assert (
        "deploy: first was renamed to second, but removing first failed (cannot remove first); the next run removes it"
        in err
    )
    assert run("plan", spec) == 0
    assert "- deploy.was.first  delete   removed from the spec" in capsys.readouterr().out
    assert run("run", spec) == 0
    destroyed = [c for c in calls(project / ".orchestrator") if c["op"] == "destroy"]
    assert [(c["step"], c["outputs"]["endpoint_name"]) for c in destroyed] == [("deploy.was.first", "first")]


def test_a_second_pipeline_cannot_share_a_state_folder(project, capsys):
    spec = project / "pipeline.yaml"
    assert run("run", str(spec)) == 0
    other = project / "other.yaml"
    other.write_text(spec.read_text().replace("name: demo", "name: other"))
    capsys.readouterr()
    for command in ("run", "plan", "status", "destroy"):
        assert run(command, str(other)) == 2
        err = capsys.readouterr().err
        assert "holds the state of pipeline 'demo', not 'other'" in err
        assert "hint: give pipeline 'other' a state folder of its own (e.g. state: .orchestrator-other)" in err
    assert [c["op"] for c in calls(project / ".orchestrator")].count("destroy") == 0
