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
