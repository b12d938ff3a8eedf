"""k-NN stand-in: trained as a subprocess on scikit-learn's digits, served through its handler functions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from orchestrator.targets.local.algorithms import read_marker
from tests.builtins.jobs import Job, csv_body, inference, invoke, metric

ALGORITHM = "knn"
K = 5
ACCURACY_FLOOR = 0.93  # exact 5-NN on digits scores about 0.97 on these held-out rows
TEST_ACCURACY = r"#quality_metric: host=\S+, test accuracy <score>=(\S+)"


@pytest.fixture(scope="module")
def digits():
    features, labels = load_digits(return_X_y=True)
    return train_test_split(features, labels, test_size=0.25, random_state=0, stratify=labels)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits):
    train_x, test_x, train_y, test_y = digits
    job = Job(tmp_path_factory.mktemp("knn") / "opt-ml")
    job.write_csv("train", train_x[:700], train_y[:700], name="part-1.csv")  # a folder of CSV files
    job.write_csv("train", train_x[700:], train_y[700:], name="part-2.csv")
    job.write_csv("test", test_x, test_y)
    job.write_hyperparameters(
        {
            "k": K,
            "predictor_type": "classifier",
            "sample_size": 5000,
            "feature_dim": 64,
            "index_type": "faiss.IVFFlat",
            "dimension_reduction_target": 16,
        }
    )
    return job, job.train(ALGORITHM)


@pytest.fixture(scope="module")
def served(trained):
    job, _ = trained
    module = inference(ALGORITHM)
    return module, module.model_fn(str(job.model_dir))


def test_training_writes_model_marker_and_metric_lines(trained, digits):
    job, finished = trained
    assert finished.returncode == 0, finished.log
    assert read_marker(job.model_dir) == "knn"
    assert job.marker() == {"algorithm": "knn", "predictor_type": "classifier", "k": K, "feature_dim": 64}
    assert metric(finished.log, TEST_ACCURACY) >= ACCURACY_FLOOR
    assert metric(finished.log, r"#test_score \(algo-1\) : \('accuracy', (\S+)\)") >= ACCURACY_FLOOR
    assert metric(finished.log, r"train accuracy <score>=(\S+)") >= ACCURACY_FLOOR
    assert not job.failure.exists()


def test_unemulated_hyperparameters_are_named_in_warnings(trained):
    _, finished = trained
    assert "dimension_reduction_target=16 is ignored by the local stand-in" in finished.stdout
    assert "index_type faiss.IVFFlat is served by an exact index" in finished.stdout


def _accuracy(predictions, labels) -> float:
    return float(np.mean([p["predicted_label"] for p in predictions] == labels))


def test_json_instances(served, digits):
    module, model = served
    _, test_x, _, test_y = digits
    body = json.dumps({"instances": [{"features": row.tolist()} for row in test_x]})
    answer, content_type = invoke(module, model, body.encode(), "application/json", "application/json")
    assert content_type == "application/json"
    predictions = json.loads(answer)["predictions"]
    assert len(predictions) == len(test_y)
    assert all(set(p) == {"predicted_label"} and isinstance(p["predicted_label"], float) for p in predictions)
    assert _accuracy(predictions, test_y) >= ACCURACY_FLOOR


def test_jsonlines_in_and_out(served, digits):
    module, model = served
    _, test_x, _, test_y = digits
    body = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in test_x)
    answer, content_type = invoke(module, model, body, "application/jsonlines", "application/jsonlines")
    assert content_type == "application/jsonlines"
    lines = answer.splitlines()
    assert len(lines) == len(test_y)
    assert _accuracy([json.loads(line) for line in lines], test_y) >= ACCURACY_FLOOR


def test_csv_rows_answer_json_by_default(served, digits):
    module, model = served
    _, test_x, _, test_y = digits
    answer, content_type = invoke(module, model, csv_body(test_x), "text/csv", None)
    assert content_type == "application/json"
    assert _accuracy(json.loads(answer)["predictions"], test_y) >= ACCURACY_FLOOR


def test_verbose_json_lists_neighbours(served, digits):
    module, model = served
    _, test_x, _, _ = digits
    body = json.dumps({"instances": [{"data": {"features": {"values": test_x[0].tolist()}}}]})
    answer, content_type = invoke(module, model, body, "application/json", "application/json; verbose=true")
    assert content_type == "application/json"
    (prediction,) = json.loads(answer)["predictions"]
    assert set(prediction) == {"predicted_label", "distances", "labels"}
    assert len(prediction["distances"]) == len(prediction["labels"]) == K
    assert prediction["distances"] == sorted(prediction["distances"])
    votes = {label: prediction["labels"].count(label) for label in prediction["labels"]}
    assert votes[prediction["predicted_label"]] == max(votes.values())


def test_unsupported_types_are_refused_with_the_accepted_ones(served, digits):
    module, model = served
    with pytest.raises(
        ValueError, match=r"application/x-recordio-protobuf.*text/csv, application/json, application/jsonlines"
    ):
        module.input_fn(b"\x00", "application/x-recordio-protobuf")
    prediction = module.predict_fn(module.input_fn("0," * 63 + "0", "text/csv"), model)
    with pytest.raises(ValueError, match="Accept text/csv is not supported; use one of: application/json"):
        module.output_fn(prediction, "text/csv")
    with pytest.raises(ValueError, match="needs 64 features, got 3"):
        module.predict_fn(module.input_fn("1,2,3", "text/csv"), model)


def test_regressor_averages_the_neighbours(job: Job):
    rng = np.random.default_rng(3)
    features = rng.uniform(-1, 1, size=(400, 2))
    target = features[:, 0] * 3 + features[:, 1]
    job.write_csv("train", features[:300], target[:300])
    job.write_csv("test", features[300:], target[300:])
    job.write_hyperparameters({"k": 4, "predictor_type": "regressor", "sample_size": 300, "feature_dim": 2})
    finished = job.train(ALGORITHM)
    assert finished.returncode == 0, finished.log
    assert metric(finished.log, r"test mse <score>=(\S+)") < 0.1  # the target's variance is about 3.3
    module = inference(ALGORITHM)
    answer, _ = invoke(module, module.model_fn(str(job.model_dir)), csv_body(features[300:]), "text/csv", None)
    predicted = np.array([p["predicted_label"] for p in json.loads(answer)["predictions"]])
    assert np.mean((predicted - target[300:]) ** 2) < 0.1


def test_missing_required_hyperparameters_fail_the_job(job: Job, digits):
    train_x, _, train_y, _ = digits
    job.write_csv("train", train_x, train_y)
    job.write_hyperparameters({"sample_size": 100, "feature_dim": 64})
    finished = job.train(ALGORITHM)
    assert finished.returncode != 0
    reason = job.failure.read_text()
    assert reason == "ClientError: missing required hyperparameter(s) for knn: k, predictor_type"
    assert reason in finished.stderr
    assert read_marker(job.model_dir) is None


def test_feature_dim_must_match_the_data(job: Job, digits):
    train_x, _, train_y, _ = digits
    job.write_csv("train", train_x, train_y)
    job.write_hyperparameters({"k": 3, "predictor_type": "classifier", "sample_size": 100, "feature_dim": 10})
    finished = job.train(ALGORITHM)
    assert finished.returncode != 0
    assert "feature_dim is 10 but the training data has 64 features" in job.failure.read_text()
