"""abalone-pipeline end to end: every step kind in one run, as the SageMaker Pipelines tutorial chains them.

prepare (processing) -> tune (tuning, seeded Random) -> evaluate (processing with a report)
-> deploy (endpoint gated on evaluation.json) -> api (direct route) -> site (website), and
score (batch transform of the test shells) beside them. One run on a copy of the example
serves every test here; the last one destroys it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest

from orchestrator.spec.processing import report_metrics
from orchestrator.targets.local.storage.layout import S3Layout, split_s3_uri

from .conftest import DeployedExample, assert_destroyed, copy_example, load_module, orchestrator, process_alive

pytestmark = pytest.mark.slow

KINDS = {
    "prepare": "processing",
    "tune": "tuning",
    "evaluate": "processing",
    "deploy": "endpoint",
    "api": "api",
    "score": "transform",
    "site": "website",
}
HELD_OUT_SEED = 4242
RMSE_CEILING = 2.5  # the spec's gate; about 1.3 rings measured on the test split
HELD_OUT_RMSE_CEILING = 2.2  # about 1.7 measured on 200 unseen shells; guessing the mean ring count gives about 3.3
BATCH_PARTS = 3  # the spec's --batch-parts


@pytest.fixture(scope="module")
def example(deployed_example) -> DeployedExample:
    return deployed_example("abalone-pipeline")


def read_prefix(example: DeployedExample, uri: str) -> dict[str, bytes]:
    """Every object under an s3:// prefix of the example's local S3, by key below the prefix."""
    layout = S3Layout(example.project / ".orchestrator" / "local" / "s3")
    bucket, prefix = split_s3_uri(uri)
    return {
        meta["key"][len(prefix) :]: layout.object_file(bucket, meta["key"]).read_bytes()
        for meta in layout.listing(bucket, prefix)
    }


def history(example: DeployedExample) -> dict:
    answer = orchestrator(example.project, "history", "pipeline.yaml", "--json")
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def predict(url: str, instances: list[list[float]]) -> list[float]:
    response = httpx.post(
        url, content=json.dumps({"instances": instances}), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


def test_validate_and_plan_show_every_kind_in_dependency_order(tmp_path):
    project = copy_example("abalone-pipeline", tmp_path)
    checked = orchestrator(project, "validate", "pipeline.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "7 steps: prepare -> tune -> evaluate -> deploy -> api -> score -> site" in checked.stdout
    planned = orchestrator(project, "plan", "pipeline.yaml", "--format", "json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    ops = json.loads(planned.stdout)["ops"]
    assert {op["step"]: op["kind"] for op in ops} == KINDS
    assert {op["action"] for op in ops} == {"run"}
    after = {op["step"]: set(op["after"]) for op in ops}
    assert after["tune"] == {"prepare"} and after["evaluate"] == {"tune", "prepare"}
    assert after["deploy"] >= {"tune", "evaluate"} and after["score"] == {"tune", "prepare"}
    assert after["api"] == {"deploy"} and after["site"] == {"api"}


def test_every_step_succeeded(example):
    steps = example.status["steps"]
    assert {name: step["kind"] for name, step in steps.items()} == KINDS
    assert {name: step["status"] for name, step in steps.items()} == dict.fromkeys(KINDS, "succeeded")
    assert example.status["run"]["status"] == "succeeded"
    for name in KINDS:
        assert f"✓ {name} succeeded" in example.run_output


def test_prepare_split_the_shells_and_wrote_the_batch_without_labels(example):
    prepare = example.outputs("prepare")
    rows = {name: read_prefix(example, prepare[name]) for name in ("train", "validation", "test", "batch")}
    counts = {name: sum(len(body.splitlines()) for body in files.values()) for name, files in rows.items()}
    assert counts == {"train": 420, "validation": 90, "test": 90, "batch": 90}  # 600 shells, 70/15/15 %
    assert sorted(rows["batch"]) == [f"part-{i}.csv" for i in range(BATCH_PARTS)]
    test_rows = rows["test"]["test.csv"].decode().splitlines()
    batch_rows = [line for i in range(BATCH_PARTS) for line in rows["batch"][f"part-{i}.csv"].decode().splitlines()]
    assert [row.split(",", 1)[1] for row in test_rows] == batch_rows  # the same shells, label dropped
    assert all(len(row.split(",")) == 10 for row in batch_rows)


def test_tuning_ran_seeded_random_trials_and_kept_the_lowest_rmse(example):
    tune = example.status["steps"]["tune"]
    attempt = next(s for s in history(example)["runs"][-1]["steps"] if s["step"] == "tune")
    trials = attempt["trials"]
    assert len(trials) == 3 and {t["status"] for t in trials} == {"Completed"}
    best = min(trials, key=lambda t: t["metrics"]["validation_rmse"])
    assert tune["metrics"] == {"validation_rmse": best["metrics"]["validation_rmse"]}
    assert tune["outputs"]["best_hyperparameters"] == best["hyperparameters"]
    for trial in trials:
        assert 0.02 <= float(trial["hyperparameters"]["learning_rate"]) <= 0.3
        assert trial["hyperparameters"]["max_depth"] in {"2", "3", "4", "5"}
    assert len({json.dumps(t["hyperparameters"], sort_keys=True) for t in trials}) == 3


def test_the_gate_decided_from_the_evaluation_report(example):
    evaluate = example.status["steps"]["evaluate"]
    report = json.loads(read_prefix(example, evaluate["outputs"]["evaluation"])["evaluation.json"])
    assert evaluate["metrics"] == report_metrics(report)
    rmse = report["regression_metrics"]["rmse"]["value"]
    assert 0 < rmse <= RMSE_CEILING and report["test_rows"] == 90
    assert f"promoting: regression_metrics.rmse.value {rmse:g} passes; no live model to beat" in example.run_output
    assert example.outputs("deploy")["model"] == example.outputs("tune")["model"]


def test_the_api_answers_unseen_shells_with_the_tuned_model(example):
    generator = load_module(example.project / "data" / "make_abalone.py")
    prepare = load_module(example.project / "processing" / "preprocess.py")
    shells = generator.make_abalone(count=200, seed=HELD_OUT_SEED)
    rows = [[float(v) for v in prepare.features({k: str(v) for k, v in shell.items()})] for shell in shells]
    through_api = predict(f"{example.url('api')}/predict", rows)
    assert through_api == predict(example.url("deploy"), rows)  # a direct route: the endpoint's own answer
    rings = [shell["rings"] for shell in shells]
    rmse = (sum((p - r) ** 2 for p, r in zip(through_api, rings, strict=True)) / len(rings)) ** 0.5
    print(f"abalone-pipeline held-out RMSE {rmse:.3f} rings on {len(rings)} shells")
    assert rmse <= HELD_OUT_RMSE_CEILING


def test_a_malformed_row_is_a_client_error(example):
    response = httpx.post(
        f"{example.url('api')}/predict",
        content=json.dumps({"instances": [[1, 2, 3]]}),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 400
    assert response.json()["message"] == "The model could not process the request"


def test_the_site_serves_the_page_and_its_config(example):
    site = example.url("site")
    page = httpx.get(site + "/", timeout=30)
    assert page.status_code == 200 and 'id="shell-form"' in page.text
    config = httpx.get(site + "/config.js", timeout=30)
    assert config.status_code == 200 and json.dumps(example.url("api")) in config.text
    missing = httpx.get(site + "/no-such-page", timeout=30)
    assert missing.status_code == 404 and "Back to the abalone age estimate" in missing.text


@pytest.mark.browser
def test_a_person_fills_in_a_shell_and_sees_its_age(example, chromium):
    """The page builds the feature row in JavaScript, calls the API on another port and shows the answer."""
    shell = {"length": "0.33", "diameter": "0.26", "height": "0.09"}
    weights = {"whole_weight": "0.1", "shucked_weight": "0.04", "viscera_weight": "0.02", "shell_weight": "0.03"}
    [expected] = predict(f"{example.url('api')}/predict", [[0, 0, 1, *map(float, {**shell, **weights}.values())]])
    page = chromium.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(example.url("site") + "/", wait_until="load")
    page.select_option("#sex", "I")
    for name, value in {**shell, **weights}.items():
        page.fill(f"#{name}", value)
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('result').dataset.rings !== undefined", timeout=30000)
    assert float(page.get_attribute("#result", "data-rings")) == expected, page.text_content("#result")
    assert page.text_content("#result") == f"about {expected:.1f} rings: {expected + 1.5:.1f} years old"
    assert failed == []


def test_the_transform_wrote_one_out_per_batch_object_with_the_endpoints_answers(example):
    batch = read_prefix(example, example.outputs("prepare")["batch"])
    scored = read_prefix(example, example.outputs("score")["data"])
    assert sorted(scored) == sorted(f"{key}.out" for key in batch)
    for key, body in batch.items():
        rows = [[float(v) for v in row] for row in csv.reader(io.StringIO(body.decode())) if row]
        answers = [float(line) for line in scored[f"{key}.out"].decode().splitlines()]
        assert answers == predict(example.url("deploy"), rows), key  # one answer per line, in order


def test_a_second_run_changes_nothing(example):
    planned = orchestrator(example.project, "plan", "pipeline.yaml", "--exit-code")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    again = orchestrator(example.project, "run", "pipeline.yaml", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing to do: every step is up to date." in again.stderr
    for name in KINDS:
        assert re.search(rf"= {name} +skip +unchanged since run {example.status['run']['id']}", again.stderr), name
    status = json.loads(again.stdout)
    assert status["run"] == example.status["run"]  # no new run recorded
    assert {name: (step["run"], step["outputs"]) for name, step in status["steps"].items()} == {
        name: (step["run"], step["outputs"]) for name, step in example.status["steps"].items()
    }
    assert [run["id"] for run in history(example)["runs"]] == [example.status["run"]["id"]]


def test_a_retuned_model_over_the_ceiling_is_not_promoted(example):
    """Another seed tunes a new model; its evaluation.json decides, and the live model keeps serving."""
    spec = example.project / "pipeline.yaml"
    text = spec.read_text()
    assert "seed: 42" in text and "at_most: 2.5," in text
    spec.write_text(text.replace("seed: 42", "seed: 43").replace("at_most: 2.5,", "at_most: 0.5,"))
    try:
        retuned = orchestrator(example.project, "run", "pipeline.yaml", "--fail-on-reject")
    finally:
        spec.write_text(text)
    assert retuned.returncode == 3, retuned.stdout + retuned.stderr
    status = example.read_status()["steps"]
    assert status["tune"]["outputs"]["model"] != example.outputs("tune")["model"]
    evaluate = status["evaluate"]
    report = json.loads(read_prefix(example, evaluate["outputs"]["evaluation"])["evaluation.json"])
    assert evaluate["metrics"] == report_metrics(report)
    reason = f"regression_metrics.rmse.value {report['regression_metrics']['rmse']['value']:g} is above the ceiling 0.5"
    assert f"deploy rejected: not promoted: {reason}" in retuned.stderr
    assert f"deploy: the new model was not promoted ({reason}); the live model keeps serving" in retuned.stderr
    assert status["deploy"]["outputs"] == example.outputs("deploy")  # the first run's model, same URL
    assert status["score"]["outputs"]["data"] != example.outputs("score")["data"]  # the transform took the new model


def processes_of(project: Path) -> set[int]:
    """Live processes started for this project: their working folder or command line is inside it."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if (cwd == str(project) or cwd.startswith(f"{project}/") or str(project) in cmdline) and process_alive(
            int(proc.name)
        ):
            found.add(int(proc.name))
    return found


def test_destroy_leaves_nothing_running(example):
    before = processes_of(example.project)
    assert example.daemon_pid() in before and len(before) > 1  # the daemon, and the endpoint's own processes
    assert_destroyed(example)
    deadline = time.monotonic() + 10  # a worker may still be between SIGTERM and exit
    while (left := {pid for pid in before if process_alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes of the example outlived destroy: {sorted(left)}"
    assert not processes_of(example.project)
