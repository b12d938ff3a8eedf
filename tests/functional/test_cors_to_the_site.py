"""The example pipeline with its API's CORS limited to the site's own origin, on the real local target:
the page the site serves calls the API in headless Chromium, other origins get no CORS grant, and the
origin (the site's port) stays the same across runs."""

from __future__ import annotations

import json
import urllib.request

import pytest

from orchestrator.targets.local.daemon.home import Home
from orchestrator.targets.local.storage import origins

from .test_example_pipeline import cli, post

pytestmark = pytest.mark.slow
ANY = 'allow_origins: ["*"]'
SITE_ONLY = 'allow_origins: ["${steps.site.outputs.origin}"]'


@pytest.fixture
def limited(example_project):
    spec = example_project / "pipeline.yaml"
    text = spec.read_text()
    assert ANY in text
    spec.write_text(text.replace(ANY, SITE_ONLY))
    try:
        plan = cli(example_project, "plan", "pipeline.yaml")
        run = cli(example_project, "run", "pipeline.yaml")
        status = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
        yield example_project, plan, run, status
    finally:
        cli(example_project, "destroy", "pipeline.yaml", "--yes", check=False)


def preflight(url: str, origin: str) -> dict:
    request = urllib.request.Request(
        url, method="OPTIONS", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(response.headers)


@pytest.mark.browser
def test_the_page_calls_an_api_that_allows_only_its_origin(limited, chromium):
    project, plan, _, status = limited
    assert "known: ${steps.site.outputs.origin} = (decided when the run starts)" in plan.stdout
    site, api = status["steps"]["site"]["outputs"], status["steps"]["api"]["outputs"]["url"]
    origin = site["origin"]
    assert origin.startswith("http://127.0.0.1:") and site["url"] == origin + "/"

    # API Gateway's answers (the preflight's mock, the direct route) grant exactly that origin
    assert preflight(f"{api}/predict", origin)["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Origin" not in preflight(f"{api}/predict", "http://elsewhere.test")
    code, headers, _ = post(f"{api}/invocations", {"instances": [[6.7, 3.0, 5.2, 2.3]]}, {"Origin": origin})
    assert code == 200 and headers["Access-Control-Allow-Origin"] == origin
    _, headers, _ = post(f"{api}/invocations", {"instances": [[6.7, 3.0, 5.2, 2.3]]}, {"Origin": "http://x.test"})
    assert headers.get("Access-Control-Allow-Origin") is None

    page = chromium.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(site["url"])
    page.fill("input[name=petal_length]", "5.8")
    page.fill("input[name=petal_width]", "2.2")
    page.fill("input[name=sepal_length]", "6.5")
    page.fill("input[name=sepal_width]", "3.0")
    page.click("button[type=submit]")
    page.wait_for_selector("#result.answer", timeout=20_000)
    assert page.inner_text("#result").startswith("virginica (confidence ")
    assert failed == []

    # the next plan and run keep the origin: nothing to redeploy, the same port
    again = cli(project, "plan", "pipeline.yaml")
    assert f"known: ${{steps.site.outputs.origin}} = {origin}" in again.stdout
    assert "Nothing to do: every step is up to date." in again.stdout


def test_destroy_releases_the_sites_port(limited):
    project, _, _, status = limited
    home = Home(project / ".orchestrator" / "local")
    port = int(status["steps"]["site"]["outputs"]["origin"].rsplit(":", 1)[1])
    assert origins.known_port(home, "iris-site") == port
    cli(project, "destroy", "pipeline.yaml", "--yes")
    assert origins.known_port(home, "iris-site") is None
