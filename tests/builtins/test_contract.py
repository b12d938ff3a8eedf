"""The shared pieces: the registry, SageMaker's hyperparameter encoding, and the job folder's paths."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from orchestrator.targets.local.algorithms import (
    ALGORITHMS,
    MARKER_FILE,
    inference_module,
    read_marker,
    train_module,
)
from orchestrator.targets.local.algorithms._contract import (
    REQUIRED,
    ClientError,
    HyperparameterSpec,
    Log,
    Param,
    auto_or,
    boolean,
    decode_value,
    integer,
    names,
    number,
    parse_hyperparameters,
    text,
)
from tests.builtins.jobs import ROOT, Job, csv_body, inference, invoke

SPEC = HyperparameterSpec(
    algorithm="demo",
    params={
        "k": Param(integer, REQUIRED, minimum=1),
        "kind": Param(text, "a", choices=("a", "b")),
        "rate": Param(auto_or(number), "auto"),
        "flag": Param(boolean, False),
    },
    ignored={"epochs": "one pass is enough"},
)


class CollectingLog(Log):
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def test_registry_names_real_modules():
    assert set(ALGORITHMS) == {"knn", "xgboost", "linear-learner", "blazingtext"}
    for name in ALGORITHMS:
        assert importlib.util.find_spec(train_module(name)) is not None
        assert importlib.util.find_spec(inference_module(name)) is not None
    assert train_module("xgboost") == "orchestrator.targets.local.algorithms.xgboost_algo.train"
    with pytest.raises(ValueError, match="no local stand-in for built-in algorithm 'pca'; available: blazingtext"):
        inference_module("pca")


def test_importing_the_registry_stays_light():
    probe = "import sys, orchestrator.targets.local.algorithms; print(sorted(m for m in ('sklearn', 'xgboost') if m in sys.modules))"
    completed = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_read_marker_only_trusts_known_algorithms(tmp_path):
    assert read_marker(tmp_path) is None
    (tmp_path / MARKER_FILE).write_text("not json")
    assert read_marker(tmp_path) is None
    (tmp_path / MARKER_FILE).write_text(json.dumps({"algorithm": "pca"}))
    assert read_marker(tmp_path) is None
    (tmp_path / MARKER_FILE).write_text(json.dumps({"algorithm": "knn", "k": 3}))
    assert read_marker(str(tmp_path)) == "knn"


@pytest.mark.parametrize(
    "raw, value",
    [
        ("5", 5),
        ("0.1", 0.1),
        ('"binary:logistic"', "binary:logistic"),
        ("binary:logistic", "binary:logistic"),
        ("true", True),
        ("auto", "auto"),
        ("[1, 2]", "[1, 2]"),
        (7, 7),
    ],
)
def test_values_decode_as_sagemaker_writes_them(raw, value):
    assert decode_value(raw) == value


def test_metric_lists_come_as_text_or_json():
    assert names("logloss, auc") == names('["logloss", "auc"]') == ["logloss", "auc"]
    with pytest.raises(ValueError):
        names(" , ")


def test_hyperparameters_convert_and_warn():
    log = CollectingLog()
    values = parse_hyperparameters(
        SPEC, {"k": "3", "kind": '"b"', "flag": "true", "epochs": "4", "_tuning_objective_metric": "x"}, log
    )
    assert values == {"k": 3, "kind": "b", "rate": "auto", "flag": True}
    assert log.warnings == ["hyperparameter epochs=4 is ignored by the local stand-in: one pass is enough"]


@pytest.mark.parametrize(
    "raw, message",
    [
        ({}, "missing required hyperparameter(s) for demo: k"),
        ({"k": "three"}, "hyperparameter k='three' is not valid: expected integer"),
        ({"k": "0"}, "hyperparameter k=0 is not valid: must be at least 1"),
        ({"k": "1", "kind": "c"}, "hyperparameter kind='c' is not valid: choose one of a, b"),
        ({"k": "1", "rate": "fast"}, "hyperparameter rate='fast' is not valid: expected auto or number"),
        (
            {"k": "1", "kk": "2"},
            (
                "hyperparameter(s) kk are not hyperparameters of demo. Known: flag, k, kind, rate; "
                "accepted but not emulated locally: epochs"
            ),
        ),
    ],
)
def test_bad_hyperparameters_are_client_errors(raw, message):
    with pytest.raises(ClientError) as caught:
        parse_hyperparameters(SPEC, raw, CollectingLog())
    assert str(caught.value) == message


def test_sm_hps_serves_when_there_is_no_hyperparameters_file(job: Job):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 2))
    job.write_csv("train", features, (features[:, 0] > 0).astype(float))
    hps = {"k": 3, "predictor_type": "classifier", "sample_size": 60, "feature_dim": 2}
    finished = job.train("knn", extra_env={"SM_HPS": json.dumps(hps)})
    assert finished.returncode == 0, finished.log
    assert not (job.config_dir / "hyperparameters.json").exists()
    assert job.marker()["k"] == 3


def test_a_missing_train_channel_fails_the_job(job: Job):
    job.write_hyperparameters({"num_round": 3})
    assert job.train("xgboost").returncode != 0
    assert job.failure.read_text() == (
        "ClientError: the 'train' channel is required: give the training step an input named 'train'"
    )


def test_training_is_deterministic(tmp_path):
    """Two runs on the same data and hyperparameters give byte-identical answers."""
    rng = np.random.default_rng(1)
    features = rng.normal(size=(200, 4))
    labels = (features[:, 0] + features[:, 1] > 0).astype(float)
    answers = []
    for run in ("first", "second"):
        job = Job(tmp_path / run)
        job.write_csv("train", features, labels)
        job.write_hyperparameters({"predictor_type": "binary_classifier", "epochs": 5, "mini_batch_size": 32})
        assert job.train("linear-learner").returncode == 0
        module = inference("linear-learner")
        answers.append(invoke(module, module.model_fn(str(job.model_dir)), csv_body(features[:20]), "text/csv", None))
    assert answers[0] == answers[1]
