"""A website's origin is known before the site runs: an API's CORS names it while the site's page
calls that API, with no cycle; the plan shows it and a run tells both steps the same value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.errors import DiagnosticError
from orchestrator.plan import make_plan
from orchestrator.plan.render import render_markdown, render_text
from orchestrator.validate import validate_file
from tests.conftest import MINIMAL
from tests.fakes import calls

from .cli_support import run

ORIGIN_REF = "${steps.site.outputs.origin}"


def with_cors(project: Path, origin: str = ORIGIN_REF) -> Path:
    """The minimal pipeline, its API's CORS limited to `origin`; the site's page still calls the API."""
    spec = MINIMAL.replace(
        "  api:\n    type: api\n", f'  api:\n    type: api\n    cors: {{allow_origins: ["{origin}"]}}\n'
    )
    assert spec != MINIMAL
    path = project / "pipeline.yaml"
    path.write_text(spec)
    return path


def test_naming_the_sites_origin_orders_nothing(project):
    spec = validate_file(with_cors(project))
    assert spec.graph.order == ("train", "deploy", "api", "site")
    assert spec.graph.deps["api"] == ("deploy",)  # not the site: its origin is told before it runs
    assert spec.graph.deps["site"] == ("api",)


def test_naming_the_sites_url_is_still_a_cycle(project):
    with pytest.raises(DiagnosticError) as caught:
        validate_file(with_cors(project, "${steps.site.outputs.url}"))
    assert [d.message for d in caught.value.diagnostics] == ["dependency cycle: api -> site -> api"]


def test_the_plan_shows_the_origin_or_that_the_run_decides_it(project):
    spec = validate_file(with_cors(project))
    undecided = make_plan(spec, "local", {})
    assert undecided.known == (("site", "origin", None),)
    assert "  known: ${steps.site.outputs.origin} = (decided when the run starts)\n" in render_text(undecided)
    told = make_plan(spec, "local", {}, known={"site": {"origin": "http://127.0.0.1:4100"}})
    assert "  known: ${steps.site.outputs.origin} = http://127.0.0.1:4100\n" in render_text(told)
    assert "Known before the run: `${steps.site.outputs.origin} = http://127.0.0.1:4100`" in render_markdown(told)
    assert told.as_dict()["known_before"] == [{"step": "site", "output": "origin", "value": "http://127.0.0.1:4100"}]


def test_a_plan_without_such_a_reference_says_nothing_of_origins(project):
    plan = make_plan(validate_file(project / "pipeline.yaml"), "local", {})
    assert plan.known == () and "known:" not in render_text(plan)


def test_a_run_tells_the_api_the_origin_the_site_then_keeps(project, capsys):
    spec = str(with_cors(project))
    state = project / ".orchestrator"
    assert run("plan", spec) == 0
    assert "(decided when the run starts)" in capsys.readouterr().out
    assert not (state / "origin-site").exists()  # plan only reads
    assert run("run", spec) == 0
    done = calls(state)
    assert [c["op"] for c in done] == ["train", "deploy", "api", "website"]
    assert done[2]["origins"] == ["http://site-site.fake"]  # told before the site ran
    capsys.readouterr()
    assert run("status", spec, "--json") == 0
    assert json.loads(capsys.readouterr().out)["steps"]["site"]["outputs"]["origin"] == "http://site-site.fake"
    assert run("plan", spec) == 0
    out = capsys.readouterr().out
    assert "  known: ${steps.site.outputs.origin} = http://site-site.fake\n" in out
    assert "Nothing to do: every step is up to date." in out


def test_a_run_that_reads_no_origin_settles_none_before_the_site(project):
    state = project / ".orchestrator"
    (state).mkdir()
    (state / "fail-site").write_text("the site fails before it settles its origin")
    assert run("run", str(project / "pipeline.yaml")) == 1
    assert not (state / "origin-site").exists()


def test_export_needs_the_origin_settled_then_writes_it_into_the_cors(project, capsys):
    spec = str(with_cors(project))
    assert run("export", spec) == 2
    assert (
        "names ${steps.site.outputs.origin}, which is decided when the pipeline first runs" in capsys.readouterr().err
    )
    assert run("run", spec) == 0
    capsys.readouterr()
    assert run("export", spec) == 0
    document = json.loads(capsys.readouterr().out)
    options = document["paths"]["/predict"]["options"]["x-amazon-apigateway-integration"]
    assert "http://site-site.fake" in json.dumps(options["responses"])
