"""`destroy`: what it asks, what it needs, and what it leaves when there is nothing to remove."""

from __future__ import annotations

import os
import sys

from .cli_support import run


def test_destroy_without_a_terminal_needs_yes(project, capsys, monkeypatch):
    assert run("run", str(project / "pipeline.yaml")) == 0
    with open(os.devnull) as devnull:
        monkeypatch.setattr(sys, "stdin", devnull)
        capsys.readouterr()
        assert run("destroy", str(project / "pipeline.yaml")) == 2
    assert "error: destroy removes everything the pipeline deployed; confirm with --yes" in capsys.readouterr().err


def test_destroy_after_a_failed_training_has_nothing_to_do(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "fail-train").write_text("bad data")
    assert run("run", str(project / "pipeline.yaml")) == 1
    capsys.readouterr()
    assert run("destroy", str(project / "pipeline.yaml"), "--yes") == 0
    assert "Nothing to destroy: pipeline 'demo' has nothing deployed." in capsys.readouterr().out


def test_destroy_does_not_need_deploy_time_secrets(project, capsys, monkeypatch):
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("    config:\n", "    config:\n      token: '${env:DEMO_SITE_TOKEN}'\n"))
    monkeypatch.setenv("DEMO_SITE_TOKEN", "x")
    assert run("run", str(spec)) == 0
    monkeypatch.delenv("DEMO_SITE_TOKEN")
    capsys.readouterr()
    assert run("destroy", str(spec), "--yes") == 0
    assert "Destroyed 4 steps" in capsys.readouterr().out


def test_destroy_during_a_first_run_refuses_naming_the_run_and_destroys_nothing(project, capsys):
    from tests.fakes import calls

    from .cli_support import start, wait_for_hang

    state = project / ".orchestrator"
    state.mkdir()
    (state / "hang-train").write_text("")  # the first run holds the lock and has recorded nothing yet
    proc = start(project, "run")
    try:
        wait_for_hang(state)
        assert run("destroy", str(project / "pipeline.yaml"), "--yes") == 1
        captured = capsys.readouterr()
        assert captured.out == ""  # no "Nothing to destroy", no "Destroyed"
        assert captured.err.startswith(
            f"error: this pipeline is locked: python -m orchestrator run {project / 'pipeline.yaml'} (pid {proc.pid} on "
        )
        assert "hint: wait for that run to finish; the lock is released when it exits" in captured.err
        assert [c["op"] for c in calls(state)] == ["train", "hang"]  # destroy asked the target for nothing
    finally:
        proc.kill()
        proc.wait()


def test_destroy_of_a_pipeline_that_never_ran_creates_nothing(project, capsys):
    assert run("destroy", str(project / "pipeline.yaml"), "--yes") == 0
    assert "Nothing to destroy: pipeline 'demo' has nothing deployed." in capsys.readouterr().out
    assert not (project / ".orchestrator").exists()
