"""XGBoost stand-in: trained as a subprocess on xgboost's CPU library, served through its handler functions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_breast_cancer, load_iris
from sklearn.model_selection import train_test_split

from orchestrator.targets.local.algorithms import read_marker
from tests.builtins.jobs import Job, csv_body, inference, invoke, metric

ALGORITHM = "xgboost"
ACCURACY_FLOOR = 0.92  # depth-3 trees score about 0.96 on these held-out breast-cancer rows
# The regex SageMaker defines for XGBoost's validation:auc metric.
VALIDATION_AUC = r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"


@pytest.fixture(scope="module")
def cancer():
    features, labels = load_breast_cancer(return_X_y=True)
    return train_test_split(features, labels, test_size=0.25, random_state=0, stratify=labels)


@pytest.fixture(scope="module")
def binary(tmp_path_factory, cancer):
    train_x, test_x, train_y, test_y = cancer
    job = Job(tmp_path_factory.mktemp("xgb") / "opt-ml")
    job.write_csv("train", train_x, train_y)
    job.write_csv("validation", test_x, test_y)
    job.write_hyperparameters(
        {
            "num_round": 60,
            "objective": "binary:logistic",
            "max_depth": 3,
            "eta": 0.3,
            "subsample": 0.9,
            "min_child_weight": 1,
            "gamma": 0,
            "scale_pos_weight": 1,
            "eval_metric": "logloss,auc",
            "early_stopping_rounds": 10,
            "nthread": 2,
        }
    )
    finished = job.train(ALGORITHM)
    module = inference(ALGORITHM)
    return job, finished, module, module.model_fn(str(job.model_dir))


def test_training_logs_rounds_as_sagemaker_does(binary):
    job, finished, _, _ = binary
    assert finished.returncode == 0, finished.log
    assert read_marker(job.model_dir) == "xgboost"
    assert job.marker()["objective"] == "binary:logistic"
    assert (job.model_dir / "xgboost-model").is_file()
    assert metric(finished.log, VALIDATION_AUC) > 0.97
    assert metric(finished.log, r"\[0\]#011train-logloss:([0-9.]+)") > metric(
        finished.log, r"#011train-logloss:([0-9.]+)"
    )
    assert "nthread=2 is ignored by the local stand-in" in finished.stdout


def test_csv_scores_one_per_line_by_default(binary, cancer):
    _, _, module, model = binary
    _, test_x, _, test_y = cancer
    answer, content_type = invoke(module, model, csv_body(test_x), "text/csv", None)
    assert content_type == "text/csv"
    assert answer.endswith("\n")
    scores = np.array([float(line) for line in answer.splitlines()])
    assert len(scores) == len(test_y) and ((scores >= 0) & (scores <= 1)).all()
    assert np.mean((scores > 0.5) == test_y) >= ACCURACY_FLOOR


def test_json_scores(binary, cancer):
    _, _, module, model = binary
    _, test_x, _, test_y = cancer
    answer, content_type = invoke(module, model, csv_body(test_x).encode(), "text/csv", "application/json")
    assert content_type == "application/json"
    predictions = json.loads(answer)["predictions"]
    assert all(set(p) == {"score"} and isinstance(p["score"], float) for p in predictions)
    assert np.mean((np.array([p["score"] for p in predictions]) > 0.5) == test_y) >= ACCURACY_FLOOR


def test_default_accept_comes_from_the_environment(binary, cancer, monkeypatch):
    _, _, module, model = binary
    monkeypatch.setenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/json")
    answer, content_type = invoke(module, model, csv_body(cancer[1][:2]), "text/csv", "*/*")
    assert content_type == "application/json" and len(json.loads(answer)["predictions"]) == 2


def test_unsupported_types_are_refused_with_the_accepted_ones(binary, cancer):
    _, _, module, model = binary
    with pytest.raises(
        ValueError,
        match="Content-Type application/json is not supported; use one of: text/csv, text/libsvm, text/x-libsvm",
    ):
        module.input_fn(json.dumps({"instances": [[1, 2]]}), "application/json")
    prediction = module.predict_fn(module.input_fn(csv_body(cancer[1][:1]), "text/csv"), model)
    with pytest.raises(
        ValueError, match="Accept application/jsonlines is not supported; use one of: text/csv, application/json"
    ):
        module.output_fn(prediction, "application/jsonlines")
    with pytest.raises(ValueError, match="needs 30 features"):
        module.predict_fn(module.input_fn("1,2,3", "text/csv"), model)
    with pytest.raises(ValueError, match="no header, no label"):
        module.input_fn("radius,texture\n1,2", "text/csv")


def test_multiclass_probabilities(job: Job):
    features, labels = load_iris(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=0.3, random_state=0, stratify=labels
    )
    job.write_csv("train", train_x, train_y)
    job.write_hyperparameters({"num_round": 20, "objective": "multi:softprob", "num_class": 3, "max_depth": 2})
    finished = job.train(ALGORITHM)
    assert finished.returncode == 0, finished.log
    assert metric(finished.log, r"#011train-mlogloss:([0-9.]+)") < 0.3
    module = inference(ALGORITHM)
    model = module.model_fn(str(job.model_dir))

    answer, content_type = invoke(module, model, csv_body(test_x), "text/csv", "text/csv")
    assert content_type == "text/csv"
    rows = np.array([[float(value) for value in line.split(",")] for line in answer.splitlines()])
    assert rows.shape == (len(test_y), 3) and np.allclose(rows.sum(axis=1), 1, atol=1e-5)
    assert np.mean(rows.argmax(axis=1) == test_y) >= 0.9  # iris: about 0.96

    answer, _ = invoke(module, model, csv_body(test_x), "text/csv", "application/json")
    scores = [p["score"] for p in json.loads(answer)["predictions"]]
    assert np.allclose(scores, rows)


def test_libsvm_training_and_requests(job: Job):
    rng = np.random.default_rng(5)
    features = rng.uniform(0, 1, size=(300, 4))
    target = 4 * features[:, 0] - 2 * features[:, 2]
    dump_svmlight_file(features[:240], target[:240], str(job.channel("train") / "train.libsvm"), zero_based=True)
    job.write_hyperparameters({"num_round": 80, "max_depth": 3, "eta": 0.2})
    finished = job.train(ALGORITHM)
    assert finished.returncode == 0, finished.log
    assert metric(finished.log, r"#011train-rmse:([0-9.]+)") < 0.15  # the target's spread is about 1.3
    module = inference(ALGORITHM)
    model = module.model_fn(str(job.model_dir))
    lines = [f"0 0:{row[0]} 1:{row[1]} 2:{row[2]} 3:{row[3]}" for row in features[240:]]
    answer, _ = invoke(module, model, "\n".join(lines), "text/libsvm", "text/csv")
    predicted = np.array([float(line) for line in answer.splitlines()])
    assert np.sqrt(np.mean((predicted - target[240:]) ** 2)) < 0.3


def test_missing_num_round_fails_the_job(job: Job, cancer):
    job.write_csv("train", cancer[0], cancer[2])
    job.write_hyperparameters({"objective": "binary:logistic"})
    finished = job.train(ALGORITHM)
    assert finished.returncode != 0
    assert job.failure.read_text() == "ClientError: missing required hyperparameter(s) for xgboost: num_round"


def test_misspelt_hyperparameter_fails_naming_it(job: Job, cancer):
    job.write_csv("train", cancer[0], cancer[2])
    job.write_hyperparameters({"num_round": 5, "max_dept": 3})
    finished = job.train(ALGORITHM)
    assert finished.returncode != 0
    assert job.failure.read_text().startswith(
        "ClientError: hyperparameter(s) max_dept are not hyperparameters of xgboost"
    )


def test_multiclass_objective_needs_num_class(job: Job, cancer):
    job.write_csv("train", cancer[0], cancer[2])
    job.write_hyperparameters({"num_round": 5, "objective": "multi:softmax"})
    assert job.train(ALGORITHM).returncode != 0
    assert job.failure.read_text() == "ClientError: objective multi:softmax needs the num_class hyperparameter"
