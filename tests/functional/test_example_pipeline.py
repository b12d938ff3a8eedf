"""The README's main job, for real: `run pipeline.yaml` on the local target, then use what it built.

A subprocess runs the real CLI in a copy of the repository's example; the API is
called like the web page calls it, the page is driven in headless Chromium, and
`destroy` must leave nothing running.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from orchestrator.targets.local.daemon.client import pid_alive

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def cli(project: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", *argv], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def post(url: str, body: dict, headers: dict | None = None) -> tuple[int, Any, dict]:
    """Status, headers (case-insensitive, as HTTP's are) and JSON body."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"{}")


@pytest.fixture
def deployed(example_project):
    """The example pipeline, run; destroyed afterwards whatever the test did."""
    try:
        run = cli(example_project, "run", "pipeline.yaml")
        status = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
        yield example_project, run, status
    finally:
        cli(example_project, "destroy", "pipeline.yaml", "--yes", check=False)


def test_run_trains_deploys_and_serves_the_api_and_page(deployed):
    project, run, status = deployed
    steps = status["steps"]
    assert {name: s["status"] for name, s in steps.items()} == {
        "train": "succeeded",
        "deploy": "succeeded",
        "api": "succeeded",
        "site": "succeeded",
    }
    assert steps["train"]["metrics"]["accuracy"] > 0.85
    assert steps["deploy"]["outputs"]["endpoint_name"] == "iris-deploy"
    api, site = steps["api"]["outputs"]["url"], steps["site"]["outputs"]["url"]
    assert f"  api: {api}" in run.stdout and f"  site: {site}" in run.stdout

    # every flower of the data set through the Lambda route: the real model answers
    with (project / "data" / "iris.csv").open() as f:
        rows = list(csv.DictReader(f))
    right = 0
    for row in rows:
        measurements = {k: float(v) for k, v in row.items() if k != "species"}
        code, headers, answer = post(f"{api}/predict", {"measurements": measurements}, {"Origin": "http://x.test"})
        time.sleep(0.025)  # at most 40 requests/s: within the stage's throttle (50/s, burst 100), as on AWS
        assert code == 200, answer
        assert headers["Access-Control-Allow-Origin"] == "*"
        right += answer["species"] == row["species"]
    assert right / len(rows) > 0.9

    # the direct route passes the body to the endpoint as the AWS integration does
    code, _, answer = post(f"{api}/invocations", {"instances": [[6.7, 3.0, 5.2, 2.3]]})
    assert code == 200 and answer["predictions"][0]["species"] == "virginica"

    # a bad request is the handler's 400, an unknown route API Gateway's 403
    assert post(f"{api}/predict", {"nope": 1})[0] == 400
    assert post(f"{api}/missing", {})[:3:2] == (403, {"message": "Missing Authentication Token"})

    # the second run changes nothing and says so
    again = cli(project, "run", "pipeline.yaml")
    assert "Nothing to do: every step is up to date." in again.stderr


@pytest.mark.browser
def test_the_web_page_shows_the_models_answer(deployed, chromium):
    _, _, status = deployed
    page = chromium.new_page()
    page.goto(status["steps"]["site"]["outputs"]["url"])
    page.fill("input[name=petal_length]", "5.8")
    page.fill("input[name=petal_width]", "2.2")
    page.fill("input[name=sepal_length]", "6.5")
    page.fill("input[name=sepal_width]", "3.0")
    page.click("button[type=submit]")
    page.wait_for_selector("#result.answer", timeout=20_000)
    assert page.inner_text("#result").startswith("virginica (confidence ")


def test_destroy_leaves_nothing_running(example_project):
    cli(example_project, "run", "pipeline.yaml")
    status = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
    urls = [s["outputs"]["url"] for s in status["steps"].values() if "url" in s["outputs"]]
    daemon = json.loads((example_project / ".orchestrator" / "local" / "daemon.json").read_text())
    cli(example_project, "destroy", "pipeline.yaml", "--yes")
    for url in urls:
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=2)
    assert not pid_alive(daemon["pid"])
    after = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
    assert all(s["outputs"] == {} for s in after["steps"].values())


def test_a_failing_training_script_fails_the_run_and_the_next_run_resumes_there(example_project):
    script = example_project / "models" / "iris" / "train.py"
    good = script.read_text()
    script.write_text(
        good.replace(
            "    x, y = load(args.train)\n",
            "    x, y = load(args.train)\n"
            "    Path(os.environ['SM_OUTPUT_DIR'], 'failure').write_text('the CSV has no petal_width column')\n"
            "    raise SystemExit('cannot train: bad columns')\n",
        )
    )
    try:
        failed = cli(example_project, "run", "pipeline.yaml", check=False)
        assert failed.returncode == 1
        assert "run 1 failed at step 'train': training script exited with status 1" in failed.stderr
        assert "Failure reason (output/failure): the CSV has no petal_width column" in failed.stderr
        assert "cannot train: bad columns" in failed.stderr  # the tail of its stderr
        assert "resume with:\n  python -m orchestrator run pipeline.yaml" in failed.stderr
        status = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
        assert status["run"]["failed_step"] == "train"
        assert status["steps"]["train"]["status"] == "failed"

        script.write_text(good)
        resumed = cli(example_project, "run", "pipeline.yaml")
        assert "train   run      new step; resumes: it failed in run 1" in resumed.stderr
        status = json.loads(cli(example_project, "status", "pipeline.yaml", "--json").stdout)
        assert {s["status"] for s in status["steps"].values()} == {"succeeded"}
    finally:
        cli(example_project, "destroy", "pipeline.yaml", "--yes", check=False)
