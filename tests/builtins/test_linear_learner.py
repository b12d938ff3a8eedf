"""Linear Learner stand-in: trained as a subprocess with scikit-learn's SGD, served through its handler functions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

from orchestrator.targets.local.algorithms import read_marker
from tests.builtins.jobs import Job, csv_body, inference, invoke, metric

ALGORITHM = "linear-learner"
BINARY_FLOOR = 0.93  # logistic regression scores about 0.96 on these held-out breast-cancer rows
MULTICLASS_FLOOR = 0.9  # about 0.95 on digits
# The regexes SageMaker defines for Linear Learner's metrics.
VALIDATION_OBJECTIVE = r"#quality_metric: host=\S+, epoch=\S+, validation \S+_objective <loss>=(\S+)"
TEST_ACCURACY = r"#quality_metric: host=\S+, test binary_classification_accuracy <score>=(\S+)"


@pytest.fixture(scope="module")
def cancer():
    features, labels = load_breast_cancer(return_X_y=True)
    return train_test_split(features, labels, test_size=0.25, random_state=0, stratify=labels)


@pytest.fixture(scope="module")
def binary(tmp_path_factory, cancer):
    train_x, test_x, train_y, test_y = cancer
    job = Job(tmp_path_factory.mktemp("ll") / "opt-ml")
    job.write_csv("train", train_x[:330], train_y[:330])
    job.write_csv("validation", train_x[330:], train_y[330:])
    job.write_csv("test", test_x, test_y)
    job.write_hyperparameters(
        {
            "predictor_type": "binary_classifier",
            "epochs": 15,
            "mini_batch_size": 100,
            "learning_rate": 0.01,
            "l1": 0,
            "wd": 0.001,
            "optimizer": "adam",
        }
    )
    finished = job.train(ALGORITHM)
    module = inference(ALGORITHM)
    return job, finished, module, module.model_fn(str(job.model_dir))


def test_training_logs_quality_metrics(binary):
    job, finished, _, _ = binary
    assert finished.returncode == 0, finished.log
    assert read_marker(job.model_dir) == "linear-learner"
    assert job.marker() == {
        "algorithm": "linear-learner",
        "predictor_type": "binary_classifier",
        "num_classes": 2,
        "feature_dim": 30,
    }
    assert metric(finished.log, VALIDATION_OBJECTIVE) < 0.3
    assert metric(finished.log, TEST_ACCURACY) >= BINARY_FLOOR
    assert "epoch=0, train binary_classification_cross_entropy_objective <loss>=" in finished.stdout
    assert "hyperparameter optimizer='adam' is ignored by the local stand-in" in finished.stdout


def _check_binary(records, labels) -> None:
    assert all(set(r) == {"score", "predicted_label"} for r in records)
    assert all(
        isinstance(r["predicted_label"], int) and r["predicted_label"] == int(r["score"] >= 0.5) for r in records
    )
    assert np.mean([r["predicted_label"] for r in records] == labels) >= BINARY_FLOOR


def test_json_instances(binary, cancer):
    _, _, module, model = binary
    _, test_x, _, test_y = cancer
    body = json.dumps({"instances": [{"features": row.tolist()} for row in test_x]})
    answer, content_type = invoke(module, model, body, "application/json", "application/json")
    assert content_type == "application/json"
    _check_binary(json.loads(answer)["predictions"], test_y)


def test_csv_in_jsonlines_out(binary, cancer):
    _, _, module, model = binary
    _, test_x, _, test_y = cancer
    answer, content_type = invoke(module, model, csv_body(test_x).encode(), "text/csv", "application/jsonlines")
    assert content_type == "application/jsonlines"
    _check_binary([json.loads(line) for line in answer.splitlines()], test_y)


def test_jsonlines_in_json_out_by_default(binary, cancer):
    _, _, module, model = binary
    _, test_x, _, test_y = cancer
    body = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in test_x)
    answer, content_type = invoke(module, model, body, "application/jsonlines", None)
    assert content_type == "application/json"
    _check_binary(json.loads(answer)["predictions"], test_y)


def test_unsupported_types_are_refused_with_the_accepted_ones(binary, cancer):
    _, _, module, model = binary
    with pytest.raises(
        ValueError,
        match="Content-Type text/plain is not supported; use one of: text/csv, application/json, application/jsonlines",
    ):
        module.input_fn("1,2", "text/plain")
    prediction = module.predict_fn(module.input_fn(csv_body(cancer[1][:1]), "text/csv"), model)
    with pytest.raises(ValueError, match="Accept text/csv is not supported"):
        module.output_fn(prediction, "text/csv")
    with pytest.raises(ValueError, match='needs "instances"'):
        module.input_fn(json.dumps({"rows": [[1]]}), "application/json")


def test_multiclass_scores_are_probability_lists(job: Job):
    features, labels = load_digits(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(features, labels, test_size=0.25, random_state=0)
    job.write_csv("train", train_x, train_y)
    job.write_csv("test", test_x, test_y)
    job.write_hyperparameters({"predictor_type": "multiclass_classifier", "num_classes": 10, "epochs": 10})
    finished = job.train(ALGORITHM)
    assert finished.returncode == 0, finished.log
    assert metric(finished.log, r"test multiclass_accuracy <score>=(\S+)") >= MULTICLASS_FLOOR
    module = inference(ALGORITHM)
    answer, _ = invoke(module, module.model_fn(str(job.model_dir)), csv_body(test_x), "text/csv", None)
    predictions = json.loads(answer)["predictions"]
    scores = np.array([p["score"] for p in predictions])
    assert scores.shape == (len(test_y), 10) and np.allclose(scores.sum(axis=1), 1)
    assert [p["predicted_label"] for p in predictions] == scores.argmax(axis=1).tolist()
    assert np.mean(scores.argmax(axis=1) == test_y) >= MULTICLASS_FLOOR


def test_regressor_answers_score_only(job: Job):
    rng = np.random.default_rng(7)
    features = rng.normal(size=(500, 3))
    target = 50 + 10 * features[:, 0] - 5 * features[:, 1] + rng.normal(scale=1.0, size=500)
    job.write_csv("train", features[:400], target[:400])
    job.write_csv("test", features[400:], target[400:])
    job.write_hyperparameters({"predictor_type": "regressor", "epochs": 20, "mini_batch_size": 50})
    finished = job.train(ALGORITHM)
    assert finished.returncode == 0, finished.log
    assert metric(finished.log, r"test mse <loss>=(\S+)") < 2.0  # the noise variance is 1, the target's 125
    module = inference(ALGORITHM)
    answer, _ = invoke(module, module.model_fn(str(job.model_dir)), csv_body(features[400:]), "text/csv", None)
    predictions = json.loads(answer)["predictions"]
    assert all(set(p) == {"score"} for p in predictions)
    assert np.mean((np.array([p["score"] for p in predictions]) - target[400:]) ** 2) < 2.0


@pytest.mark.parametrize(
    "hyperparameters, reason",
    [
        ({"epochs": 3}, "ClientError: missing required hyperparameter(s) for linear-learner: predictor_type"),
        (
            {"predictor_type": "multiclass_classifier"},
            "ClientError: predictor_type multiclass_classifier needs the num_classes hyperparameter",
        ),
        (
            {"predictor_type": "classifier"},
            (
                "ClientError: hyperparameter predictor_type='classifier' is not valid: "
                "choose one of binary_classifier, multiclass_classifier, regressor"
            ),
        ),
    ],
)
def test_invalid_settings_fail_the_job(job: Job, cancer, hyperparameters, reason):
    job.write_csv("train", cancer[0], cancer[2])
    job.write_hyperparameters(hyperparameters)
    assert job.train(ALGORITHM).returncode != 0
    assert job.failure.read_text() == reason


def test_binary_labels_must_be_zero_or_one(job: Job):
    job.write_csv("train", np.ones((4, 2)), np.array([0, 1, 2, 1]))
    job.write_hyperparameters({"predictor_type": "binary_classifier"})
    assert job.train(ALGORITHM).returncode != 0
    assert "binary_classifier labels must be 0 or 1; found 2" in job.failure.read_text()
