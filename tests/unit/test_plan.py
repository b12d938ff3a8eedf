"""The planner: fingerprints, what changed, and the decisions it takes from recorded state."""

from __future__ import annotations

from orchestrator.fingerprint import Fingerprint, fingerprint_step, hash_tree, shared_digests
from orchestrator.plan import Cause, make_plan
from orchestrator.plan.changes import describe_changes
from orchestrator.state.base import Resource
from orchestrator.validate import validate_file


def said(reasons) -> list[str]:
    return [r.sentence() for r in reasons]


def resources_for(spec) -> dict[str, Resource]:
    plan = make_plan(spec, "local", {})
    return {
        op.step: Resource(
            op.step, op.kind, op.fingerprint.digest, op.fingerprint.as_dict(), {"url": "u"}, {}, {}, 1, 0.0
        )
        for op in plan.ops
    }


def test_fingerprint_is_stable_and_sensitive_to_content(project):
    raw = {"type": "training", "framework": "sklearn", "entry_point": "train.py", "inputs": {"train": "data.csv"}}
    a = fingerprint_step("training", raw, project, {})
    assert a == fingerprint_step("training", dict(raw), project, {})
    (project / "data.csv").write_text("5,6\n")
    b = fingerprint_step("training", raw, project, {})
    assert a.digest != b.digest
    assert said(describe_changes(a, b)) == ["data changed: data.csv"]


def test_one_plan_hashes_each_path_once_and_the_next_sees_changes(project):
    raw = {"type": "training", "framework": "sklearn", "entry_point": "train.py", "inputs": {"train": "data.csv"}}
    with shared_digests():
        first = fingerprint_step("training", raw, project, {})
        hash_tree(project, "data.csv")["data.csv"] = "tampered"  # callers get copies
        (project / "data.csv").write_text("5,6\n")
        assert fingerprint_step("training", raw, project, {}) == first  # the plan's one view of the files
    assert fingerprint_step("training", raw, project, {}).digest != first.digest


def test_reasons_name_config_paths_code_files_and_upstream(project):
    old = Fingerprint(
        "a",
        {"hyperparameters": {"C": 1.0, "k": 3}, "instance": {"type": "ml.m5.large"}},
        {"train.py": "1"},
        {},
        {"train": "x"},
    )
    new = Fingerprint(
        "b",
        {"hyperparameters": {"C": 2.0, "k": 3}, "instance": {"type": "ml.m5.xlarge"}},
        {"train.py": "2", "util.py": "3"},
        {},
        {"train": "y"},
    )
    assert said(describe_changes(old, new)) == [
        "code changed: train.py, util.py",
        "config changed: hyperparameters.C, instance.type",
        "upstream changed: train",
    ]


def test_unchanged_spec_skips_everything(project):
    spec = validate_file(project / "pipeline.yaml")
    plan = make_plan(spec, "local", resources_for(spec))
    assert [(o.step, o.action) for o in plan.ops] == [
        ("train", "skip"),
        ("deploy", "skip"),
        ("api", "skip"),
        ("site", "skip"),
    ]
    assert not plan.has_changes
    assert plan.summary() == "Nothing to do: every step is up to date."


def test_config_change_replaces_step_and_downstream_by_fingerprint(project):
    spec = validate_file(project / "pipeline.yaml")
    recorded = resources_for(spec)
    text = (project / "pipeline.yaml").read_text().replace("{C: 1.0}", "{C: 3.0}")
    (project / "pipeline.yaml").write_text(text)
    plan = make_plan(validate_file(project / "pipeline.yaml"), "local", recorded)
    assert said(plan.op("train").reasons) == ["config changed: hyperparameters.C"]
    assert said(plan.op("deploy").reasons) == ["upstream changed: train"]
    assert plan.op("deploy").causes == {Cause.UPSTREAM_CHANGED}
    assert plan.op("site").action == "replace"


def test_website_content_change_touches_only_the_website(project):
    spec = validate_file(project / "pipeline.yaml")
    recorded = resources_for(spec)
    (project / "web" / "index.html").write_text("<h1>new</h1>")
    plan = make_plan(spec, "local", recorded)
    assert [(o.step, o.action) for o in plan.ops] == [
        ("train", "skip"),
        ("deploy", "skip"),
        ("api", "skip"),
        ("site", "replace"),
    ]
    assert said(plan.op("site").reasons) == ["code changed: web/index.html"]


def test_dead_service_is_started_again(project):
    spec = validate_file(project / "pipeline.yaml")
    plan = make_plan(spec, "local", resources_for(spec), alive={"deploy": False, "api": True})
    assert plan.op("deploy").action == "run"
    assert said(plan.op("deploy").reasons) == ["recorded in run 1 but no longer running (u); starting it again"]


def test_s3_inputs_use_the_listing_digest_the_target_supplies(project):
    raw = {"type": "training", "algorithm": "knn", "inputs": {"train": "s3://b/data/"}}
    unlisted = fingerprint_step("training", raw, project, {})
    assert unlisted.data == {"s3://b/data/": "unlisted"}
    a = fingerprint_step("training", raw, project, {}, external={"s3://b/data/": "etag1"})
    b = fingerprint_step("training", raw, project, {}, external={"s3://b/data/": "etag2"})
    assert said(describe_changes(a, b)) == ["data changed: s3://b/data/"]
