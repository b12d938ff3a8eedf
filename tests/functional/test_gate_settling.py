"""The promotion gate settles: a verdict is remembered, and the live model is never gated against itself."""

from __future__ import annotations

import json

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


GATE = "    promote_when: {metric: accuracy, beats_live: true}\n"


def _with_gate(project, gate: str):
    spec = project / "pipeline.yaml"
    text = spec.read_text()
    if "promote_when" in text:
        text = "".join(line + "\n" for line in text.splitlines() if "promote_when" not in line)
    spec.write_text(text.replace("    instance: {type: ml.t2.medium}\n", "    instance: {type: ml.t2.medium}\n" + gate))
    return spec


def test_changing_only_the_gate_redeploys_nothing(project, capsys):
    spec = _with_gate(project, GATE)
    assert run("run", str(spec)) == 0
    spec = _with_gate(project, "    promote_when: {metric: accuracy, at_least: 0.5}\n")
    capsys.readouterr()
    assert run("plan", str(spec), "--format", "json") == 0
    plan = json.loads(capsys.readouterr().out)
    deploy = next(op for op in plan["ops"] if op["step"] == "deploy")
    assert deploy["causes"] == ["gate_changed"]
    assert deploy["reasons"] == [
        "promotion gate changed: promote_when.at_least, promote_when.beats_live (a live model is not deployed again for it)"
    ]
    assert run("run", str(spec)) == 0
    assert "only its promotion gate changed" in capsys.readouterr().err
    assert [c["op"] for c in calls(project / ".orchestrator")].count("deploy") == 1  # the live model stayed as it is
    assert run("plan", str(spec), "--exit-code") == 0  # and the new gate is recorded


def test_a_looser_gate_decides_again_on_the_model_the_old_one_refused(project, capsys):
    spec = _with_gate(project, GATE)
    assert run("run", str(spec)) == 0
    assert run("run", str(spec), "--force", "train", "--fail-on-reject") == 3  # 0.9 does not beat 0.9
    spec = _with_gate(project, "    promote_when: {metric: accuracy, at_least: 0.5}\n")
    capsys.readouterr()
    assert run("plan", str(spec), "--format", "json", "--target", "local") == 0
    deploy = next(op for op in json.loads(capsys.readouterr().out)["ops"] if op["step"] == "deploy")
    assert deploy["causes"] == ["gate_retry"]  # a real decision, and on aws a billed one if it promotes
    assert run("run", str(spec), "--fail-on-reject") == 0
    assert "promoting:" in capsys.readouterr().err
    assert [c["op"] for c in calls(project / ".orchestrator")].count("deploy") == 2
