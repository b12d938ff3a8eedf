"""Hyperparameter tuning on the local target: real trials under the training contract, ranked by the
objective their logs report; the best trial's model is what later steps get."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.spec.models import Pipeline
from orchestrator.targets.local.daemon.client import pid_alive
from orchestrator.targets.local.tuning.sampling import trials

from .jobs_project import destroy, read_prefix, status, write_project

TUNING = """\
tune:
  type: tuning
  training:
    framework: sklearn
    entry_point: model/train.py
    inputs: {train: data/train.csv}
    metrics: [{name: score, regex: 'score=([-0-9.]+)'}]
  objective: {metric: score, type: Maximize}
  ranges:
    scale: {values: [1, 3, 5]}
    kind: {values: [plain, fancy]}
  strategy: Grid
  max_parallel_jobs: 2
score:
  type: transform
  model: ${steps.tune.outputs.model}
  inference: model/inference.py
  input: data/train.csv
"""


@pytest.fixture
def grid(tmp_path):
    spec = write_project(tmp_path, TUNING)
    try:
        yield spec
    finally:
        destroy(spec)


def test_grid_runs_every_combination_and_the_best_trials_model_is_the_steps(grid, capsys):
    assert main(["run", str(grid)]) == 0
    steps = status(grid, capsys)
    tune = steps["tune"]
    assert tune["outputs"]["best_hyperparameters"] == {"scale": "3", "kind": "fancy"}
    assert tune["metrics"] == {"score": 0.5}
    assert len(tune["outputs"]["job_name"]) <= 32  # HyperParameterTuningJobName's limit
    model = read_prefix(grid, tune["outputs"]["model"])[""]
    with tarfile.open(fileobj=io.BytesIO(model)) as archive:
        trained = json.load(archive.extractfile("model.json"))
    assert trained == {"scale": 3.0, "kind": "fancy", "rows": 2}
    # the transform downstream scores with the best model: (1+2)*3 and (3+4)*3
    assert list(read_prefix(grid, steps["score"]["outputs"]["data"]).values()) == [b"9;2\n21;2"]

    capsys.readouterr()
    assert main(["history", str(grid), "--json"]) == 0
    attempt = next(s for s in json.loads(capsys.readouterr().out)["runs"][0]["steps"] if s["step"] == "tune")
    assert [(t["hyperparameters"], t["status"], t["metrics"]) for t in attempt["trials"]] == [
        ({"scale": "1", "kind": "plain"}, "Completed", {"score": -2.0}),
        ({"scale": "1", "kind": "fancy"}, "Completed", {"score": -1.5}),
        ({"scale": "3", "kind": "plain"}, "Completed", {"score": 0.0}),
        ({"scale": "3", "kind": "fancy"}, "Completed", {"score": 0.5}),
        ({"scale": "5", "kind": "plain"}, "Completed", {"score": -2.0}),
        ({"scale": "5", "kind": "fancy"}, "Completed", {"score": -1.5}),
    ]
    assert main(["history", str(grid)]) == 0
    text = capsys.readouterr().out
    assert f"trial {tune['outputs']['job_name']}-004  Completed  score=0.5  kind=fancy scale=3  (best)" in text

    # nothing changed: no trial runs again; a change to the training script tunes again
    assert main(["run", str(grid)]) == 0
    assert status(grid, capsys)["tune"]["run"] == tune["run"]
    with (grid.parent / "model" / "train.py").open("a") as script:
        script.write("# tuned again\n")
    assert main(["run", str(grid)]) == 0
    assert status(grid, capsys)["tune"]["run"] != tune["run"]


RANDOM = """\
tune:
  type: tuning
  training:
    framework: sklearn
    entry_point: model/train.py
    inputs: {train: data/train.csv}
    hyperparameters: {kind: plain}
    metrics: [{name: score, regex: 'score=([-0-9.]+)'}]
  objective: {metric: score, type: Minimize}
  ranges:
    scale: {min: 0.5, max: 6.0, scaling: Logarithmic}
  strategy: Bayesian
  max_jobs: 3
  max_parallel_jobs: 3
  seed: 7
"""


def test_an_unemulated_strategy_runs_seeded_random_trials_and_says_so_where_the_spec_sets_it(tmp_path, capsys):
    spec = write_project(tmp_path, RANDOM)
    try:
        assert main(["validate", str(spec)]) == 0
        err = capsys.readouterr().err
        assert "pipeline.yaml:16:5: warning: steps.tune.strategy: the local target does not emulate the Bayesian" in err
        assert main(["run", str(spec)]) == 0
        err = capsys.readouterr().err
        assert "strategy Bayesian is not emulated locally: trials are drawn at random (seed 7)" in err
        cores = os.cpu_count() or 1
        bounded = f"{cores} trial{'s' if cores != 1 else ''} at a time: this machine has {cores} cores"
        assert (bounded in err) == (cores < 3)  # max_parallel_jobs 3, bounded by this machine
        tune = status(spec, capsys)["tune"]
        step = Pipeline.model_validate({"name": "jobs", "steps": {"tune": json.loads(json.dumps(_step(spec)))}})
        drawn = [t["scale"] for t in trials(step.steps["tune"])]
        assert all(0.5 <= s <= 6.0 for s in drawn) and len(set(drawn)) == 3
        closest = max(drawn, key=lambda s: abs(s - 3.0))  # Minimize: the score farthest below zero
        assert tune["outputs"]["best_hyperparameters"] == {"scale": str(closest)}
        assert tune["metrics"] == {"score": pytest.approx(-abs(closest - 3.0), abs=1e-4)}
    finally:
        destroy(spec)


def _step(spec):

    return yaml.safe_load(spec.read_text())["steps"]["tune"]


def test_random_and_grid_choose_the_same_trials_for_the_same_seed():
    base = {"name": "p", "steps": {"t": yaml_step(strategy="Random", max_jobs=4, seed=3)}}
    first = trials(Pipeline.model_validate(base).steps["t"])
    assert first == trials(Pipeline.model_validate(base).steps["t"])
    assert all(isinstance(t["n"], int) and 2 <= t["n"] <= 9 for t in first)
    assert all(1e-4 <= t["lr"] <= 1e-1 for t in first)
    other = {"name": "p", "steps": {"t": yaml_step(strategy="Random", max_jobs=4, seed=4)}}
    assert trials(Pipeline.model_validate(other).steps["t"]) != first
    grid = {
        "name": "p",
        "steps": {
            "t": yaml_step(strategy="Grid", ranges={"a": {"values": [1, 2]}, "b": {"values": ["x", "y"]}}, max_jobs=3)
        },
    }
    assert trials(Pipeline.model_validate(grid).steps["t"]) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
    ]


def yaml_step(**overrides):
    return {
        "type": "tuning",
        "training": {"framework": "sklearn", "entry_point": "train.py", "metrics": [{"name": "m", "regex": "m=(.*)"}]},
        "objective": {"metric": "m"},
        "ranges": {"n": {"min": 2, "max": 9}, "lr": {"min": 1e-4, "max": 1e-1, "scaling": "Logarithmic"}},
        **overrides,
    }


SLOW = """\
import os, pathlib, sys, time
marks = pathlib.Path(__file__).resolve().parents[1] / "started"
marks.mkdir(exist_ok=True)
(marks / str(os.getpid())).write_text("")
time.sleep(120)
"""


def test_stopping_the_run_stops_every_running_trial(tmp_path, capsys):

    spec = write_project(
        tmp_path,
        RANDOM.replace("model/train.py", "model/slow.py")
        .replace("strategy: Bayesian", "strategy: Random")
        .replace("max_jobs: 3\n  max_parallel_jobs: 3", "max_jobs: 2\n  max_parallel_jobs: 2"),
    )
    (tmp_path / "model" / "slow.py").write_text(SLOW)
    root = Path(__file__).resolve().parents[2]
    run = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", str(spec)],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        started = tmp_path / "started"
        while len(list(started.glob("*"))) < 2:  # both trials run at once
            assert time.monotonic() < deadline and run.poll() is None, "the trials never started"
            time.sleep(0.1)
        trials = [int(p.name) for p in started.iterdir()]
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
        assert run.returncode != 0
        assert "tune interrupted" in err and err.count("InProgress: 0/2 trials") == 1
        assert not [pid for pid in trials if pid_alive(pid)]
        assert main(["status", str(spec), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["steps"]["tune"]["status"] == "interrupted"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        destroy(spec)


BUILTIN = """\
tune:
  type: tuning
  training:
    algorithm: xgboost
    inputs: {train: data/xtrain.csv, validation: data/xvalidation.csv}
    hyperparameters: {num_round: 8, objective: "reg:squarederror"}
  objective: {metric: "validation:rmse", type: Minimize}
  ranges:
    max_depth: {values: [1, 4]}
  strategy: Grid
  max_parallel_jobs: 2
score:
  type: transform
  model: ${steps.tune.outputs.model}
  input: data/xtest.csv
  split_type: Line
  assemble_with: Line
"""


def test_a_builtins_own_metric_ranks_its_trials_and_its_model_serves_the_transform(tmp_path, capsys):

    spec = write_project(tmp_path, BUILTIN)
    rng = random.Random(1)
    for name, rows in (("xtrain", 200), ("xvalidation", 60)):
        points = [(rng.uniform(0, 4), rng.uniform(0, 4)) for _ in range(rows)]
        text = "".join(f"{a * a + 3 * b:.4f},{a:.4f},{b:.4f}\n" for a, b in points)
        (tmp_path / "data" / f"{name}.csv").write_text(text)
    (tmp_path / "data" / "xtest.csv").write_text("1.0,2.0\n3.0,0.5\n")
    try:
        assert main(["run", str(spec)]) == 0
        steps = status(spec, capsys)
        capsys.readouterr()
        assert main(["history", str(spec), "--json"]) == 0
        attempt = next(s for s in json.loads(capsys.readouterr().out)["runs"][0]["steps"] if s["step"] == "tune")
        scores = {t["hyperparameters"]["max_depth"]: t["metrics"]["validation:rmse"] for t in attempt["trials"]}
        assert set(scores) == {"1", "4"}
        best = min(scores, key=scores.get)
        assert steps["tune"]["outputs"]["best_hyperparameters"] == {"max_depth": best}
        assert steps["tune"]["metrics"]["validation:rmse"] == scores[best]
        # XGBoost's own serving: one score per CSV line
        answers = read_prefix(spec, steps["score"]["outputs"]["data"])["xtest.csv.out"].decode().split()
        assert len(answers) == 2 and all(float(a) > 0 for a in answers)
    finally:
        destroy(spec)


FAILING = """\
tune:
  type: tuning
  training:
    framework: sklearn
    entry_point: model/train.py
    inputs: {train: data/train.csv}
    hyperparameters: {scale: 3}
    metrics: [{name: score, regex: 'score=([-0-9.]+)'}]
  objective: {metric: score}
  ranges:
    kind: {values: [broken, plain]}
  strategy: Grid
"""


def test_a_failed_trial_is_one_outcome_and_only_all_failing_fails_the_step(tmp_path, capsys):
    spec = write_project(tmp_path, FAILING)
    try:
        assert main(["run", str(spec)]) == 0
        tune = status(spec, capsys)["tune"]
        assert tune["outputs"]["best_hyperparameters"] == {"kind": "plain"}
        capsys.readouterr()
        assert main(["history", str(spec)]) == 0
        lines = [line.strip() for line in capsys.readouterr().out.splitlines() if "trial " in line]
        name = tune["outputs"]["job_name"]
        assert lines == [
            f"trial {name}-001  Failed  kind=broken",
            f"trial {name}-002  Completed  score=0  kind=plain  (best)",
        ]

        spec.write_text(spec.read_text().replace("[broken, plain]", "[broken]"))
        assert main(["run", str(spec)]) == 1
        err = capsys.readouterr().err
        assert "no trial reported the objective metric score" in err
        assert "training script exited with status 1" in err
    finally:
        destroy(spec)


GATED = (
    TUNING.split("score:\n")[0]
    + """\
deploy:
  type: endpoint
  model: ${steps.tune.outputs.model}
  inference: model/inference.py
  instance: {type: ml.t2.medium}
  promote_when: {metric: score, at_least: 0.4}
"""
)


def test_an_endpoint_gated_on_the_objective_serves_the_best_trials_model(tmp_path, capsys):

    spec = write_project(tmp_path, GATED.replace("at_least: 0.4", "at_least: 0.6"))
    try:
        assert main(["run", str(spec)]) == 1
        assert "not promoted: score 0.5 is below the floor 0.6; no live model to keep" in capsys.readouterr().err
        assert status(spec, capsys)["deploy"]["outputs"] == {}

        spec.write_text(spec.read_text().replace("at_least: 0.6", "at_least: 0.4"))
        assert main(["run", str(spec)]) == 0
        deploy = status(spec, capsys)["deploy"]
        request = urllib.request.Request(
            deploy["outputs"]["url"], data=b"1,2\n", headers={"Content-Type": "text/csv"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.read() == b"9;1"  # (1 + 2) * the best scale, 3
    finally:
        destroy(spec)
