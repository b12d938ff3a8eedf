"""Every broken spec in tests/corpus gives exactly the diagnostics pinned beside it.

Each `NAME.yaml` has a `NAME.expected` holding the full stderr of
`python -m orchestrator validate NAME.yaml`, so every message, position and hint is pinned.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES = sorted(p.stem for p in CORPUS.glob("*.yaml"))


@pytest.fixture(autouse=True)
def in_corpus(monkeypatch):
    monkeypatch.chdir(CORPUS)
    monkeypatch.delenv("ORCHESTRATOR_TEST_UNSET_NAME", raising=False)
    monkeypatch.delenv("ORCHESTRATOR_TEST_UNSET_TYPE", raising=False)


def test_corpus_is_not_empty():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES)
def test_broken_spec_diagnostics_are_pinned(case, capsys):
    code = main(["validate", f"{case}.yaml"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err == (CORPUS / f"{case}.expected").read_text()
    assert "Traceback" not in captured.err


def test_json_output_lists_every_problem(capsys):
    assert main(["validate", "unknown-keys.yaml", "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is False
    assert [p["path"] for p in doc["problems"]] == ["stpes", "steps.train.instnace", "steps.deploy.instance.cuont"]
    assert doc["problems"][1] == {
        "file": "unknown-keys.yaml",
        "line": 9,
        "col": 5,
        "path": "steps.train.instnace",
        "severity": "error",
        "message": "unknown key 'instnace'",
        "hint": "did you mean 'instance'?",
    }


def test_missing_file(capsys):
    assert main(["validate", "nope.yaml"]) == 2
    assert capsys.readouterr().err.startswith(
        "nope.yaml:1:1: error: (document): file not found\n  hint: check the path\n"
    )


def test_folder_instead_of_file(capsys):
    assert main(["validate", "web"]) == 2
    assert "web:1:1: error: (document): is a folder, not a spec file" in capsys.readouterr().err


def test_oversized_file(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("name: demo\n" + "# padding\n" * 120_000)
    assert main(["validate", str(big)]) == 2
    err = capsys.readouterr().err
    assert f"{big}:1:1: error: (document): file is {big.stat().st_size} bytes; the limit is 1048576" in err


def test_not_utf8(tmp_path, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: demo\nsteps: caf\xe9\n")
    assert main(["validate", str(bad)]) == 2
    assert f"{bad}:2:1: error: (document): file is not valid UTF-8\n  hint: save it as UTF-8" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    assert main(["validate"]) == 2
    assert "error: the following arguments are required: FILE" in capsys.readouterr().err
    assert main(["explode", "x.yaml"]) == 2
    assert "invalid choice: 'explode'" in capsys.readouterr().err
