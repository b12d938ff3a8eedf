"""The promotion gate settles: a verdict is remembered, and the live model is never gated against itself."""

from __future__ import annotations

from tests.fakes import calls

from .cli_support import run


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
