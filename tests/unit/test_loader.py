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


# -- anchors and aliases ------------------------------------------------------------------


def test_aliases_within_the_budget_repeat_values_and_keep_positions():
    text = "shared: &inst {type: ml.m5.large, count: 2}\nsteps:\n  a: {instance: *inst}\n  b: {instance: *inst}\n"
    doc = load_text(text, "a.yaml")
    assert (
        doc.data["steps"]["a"]["instance"] == doc.data["steps"]["b"]["instance"] == {"type": "ml.m5.large", "count": 2}
    )
    assert doc.data["steps"]["a"]["instance"] is not doc.data["steps"]["b"]["instance"]  # plain data, never shared
    assert doc.where(("steps", "b", "instance", "count")) == (1, 42)  # where the value was written


def test_an_alias_inside_its_own_value_is_located():
    with pytest.raises(DiagnosticError) as info:
        load_text("name: demo\nsteps:\n  a: &s\n    env: {k: [1, *s]}\n", "c.yaml")
    [d] = info.value.diagnostics
    assert d.render() == (
        "c.yaml:4:18: error: steps.a.env.k[1]: alias '*s' is inside the value anchored '&s' (line 3), "
        "so that value would contain itself\n  hint: an alias can repeat a value only from outside it"
    )


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]\n" for p, x in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    "text, where",
    [("a: &a [*a, *a]\n", (1, 8)), (BILLION_LAUGHS, (5, 8))],
    ids=["self-reference", "billion-laughs"],
)
def test_alias_bombs_are_refused_at_once_in_little_memory(text, where):
    import time
    import tracemalloc

    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(DiagnosticError) as info:
            load_text(text, "bomb.yaml")
        took = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    first = info.value.diagnostics[0]
    assert (first.line, first.col) == where
    assert took < 5 and peak < 20 * 1024 * 1024, (took, peak)


def test_the_alias_budget_counts_every_repeated_value():
    from orchestrator.spec.aliases import MAX_ALIAS_NODES

    items = ", ".join(["x"] * 99)  # an anchored list of 100 values: the list and its 99 items
    fits = f"a: &a [{items}]\n" + "".join(f"r{i}: *a\n" for i in range(MAX_ALIAS_NODES // 100))
    assert len(load_text(fits, "fits.yaml").data) == 1 + MAX_ALIAS_NODES // 100
    with pytest.raises(DiagnosticError) as info:
        load_text(fits + "over: *a\n", "over.yaml")
    [d] = info.value.diagnostics
    assert (d.line, d.path) == (MAX_ALIAS_NODES // 100 + 2, ("over",))
    assert d.message == "alias '*a' takes what aliases repeat past 10,000 values"


# -- what a scalar may be ---------------------------------------------------------------------


def test_control_characters_are_located_where_they_are():
    with pytest.raises(DiagnosticError) as info:
        load_text("name: demo\nnote: café ünïcode\x07 here\n", "ctl.yaml")
    [d] = info.value.diagnostics
    assert (d.line, d.col, d.message) == (2, 19, "the control character U+0007 is not allowed in YAML")


def test_keys_read_as_text_as_before():
    doc = load_text("m:\n  1: a\n  2024-01-01: b\n  true: c\n", "k.yaml")
    assert doc.data == {"m": {"1": "a", "2024-01-01": "b", "True": "c"}}


def test_environment_values_that_no_field_could_hold_as_numbers_stay_text():
    env = {"BIG": "9" * 5000, "NAN": ".nan", "WIDE": "0x" + "f" * 4000, "N": "3"}
    doc = load_text("a: ${env:BIG}\nb: ${env:NAN}\nc: ${env:WIDE}\nd: ${env:N}\n", "e.yaml", env=env)
    assert doc.data == {"a": env["BIG"], "b": ".nan", "c": env["WIDE"], "d": 3}


def test_a_control_character_from_the_environment_is_refused_without_showing_the_value():
    with pytest.raises(DiagnosticError) as info:
        load_text("token: ${env:TOKEN}\n", "s.yaml", env={"TOKEN": "s3cr3t\x00"})
    [d] = info.value.diagnostics
    assert d.message == "the value of ${env:TOKEN}: the text holds the control character U+0000"
    assert "s3cr3t" not in d.render()
