"""Values from ${env:...} are used, never recorded."""

from __future__ import annotations

import stat

from .cli_support import run


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
