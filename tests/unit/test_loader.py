"""YAML loading: positions, duplicate keys and ${env:...} interpolation."""

from __future__ import annotations

import pytest

from orchestrator.errors import DiagnosticError
from orchestrator.spec.loader import load_text

SPEC = """\
name: demo
steps:
  train:
    count: ${env:COUNT}
    label: model-${env:SUFFIX:-dev}
    flag: ${env:FLAG}
"""


def test_positions_of_keys_and_values():
    doc = load_text(SPEC, "p.yaml", env={"COUNT": "3", "FLAG": "true"})
    assert doc.where(("steps", "train", "count")) == (4, 12)
    assert doc.where(("steps", "train", "count"), key=True) == (4, 5)
    # a missing path points at the nearest existing parent
    assert doc.where(("steps", "train", "nope", "deeper")) == (4, 5)


def test_env_interpolation_types_whole_values_and_keeps_strings():
    doc = load_text(SPEC, "p.yaml", env={"COUNT": "3", "FLAG": "true", "SUFFIX": "prod"})
    train = doc.data["steps"]["train"]
    assert train == {"count": 3, "label": "model-prod", "flag": True}
    doc = load_text(SPEC, "p.yaml", env={"COUNT": "3", "FLAG": "no"})
    assert doc.data["steps"]["train"]["label"] == "model-dev"


def test_every_missing_env_var_is_reported():
    with pytest.raises(DiagnosticError) as info:
        load_text(SPEC, "p.yaml", env={})
    rendered = [d.render().splitlines()[0] for d in info.value.diagnostics]
    assert rendered == [
        "p.yaml:4:12: error: steps.train.count: environment variable 'COUNT' is not set",
        "p.yaml:6:11: error: steps.train.flag: environment variable 'FLAG' is not set",
    ]


def test_duplicate_keys_at_any_depth_are_all_reported():
    text = "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n"
    with pytest.raises(DiagnosticError) as info:
        load_text(text, "d.yaml")
    assert [(d.line, d.col, d.message) for d in info.value.diagnostics] == [
        (4, 3, "duplicate key 'c' (first defined at line 3)"),
        (5, 1, "duplicate key 'a' (first defined at line 1)"),
    ]


def test_merge_keys_are_refused():
    with pytest.raises(DiagnosticError) as info:
        load_text("base: &b {x: 1}\nother:\n  <<: *b\n", "m.yaml")
    assert info.value.diagnostics[0].message == "YAML merge keys ('<<') are not supported"


def test_tab_indentation_hint():
    with pytest.raises(DiagnosticError) as info:
        load_text("name: demo\nsteps:\n\ttrain: {}\n", "t.yaml")
    assert info.value.diagnostics[0].hint == "YAML does not allow tabs for indentation: use spaces"
