"""churn-xgboost end to end: preprocessing artifact -> XGBoost -> a Lambda that applies both."""

from __future__ import annotations

import json

import httpx
import pytest
from sklearn.metrics import roc_auc_score

from .conftest import assert_destroyed, load_module

pytestmark = pytest.mark.slow

HELD_OUT_SEED = 31337
ACCURACY_FLOOR = 0.82  # about 0.89 measured; always answering "stays" scores about 0.76
AUC_FLOOR = 0.85  # about 0.93 measured
THRESHOLD = 0.5  # the spec's THRESHOLD


@pytest.fixture(scope="module")
def example(deployed_example):
    return deployed_example("churn-xgboost")


def score(api: str, customer: dict) -> dict:
    response = httpx.post(
        f"{api}/churn", content=json.dumps(customer), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_features_step_publishes_the_transform_and_the_training_data(example):
    features = example.outputs("features")
    assert features["model"].startswith("s3://my-ml-artifacts/orchestrator/artifacts/sha256/")
    assert features["model"].endswith("/model.tar.gz")
    assert features["data"].startswith("s3://my-ml-artifacts/") and features["data"].endswith("/data/")


def test_unseen_customers_are_scored_above_the_floors(example):
    generator = load_module(example.project / "data" / "make_customers.py")
    customers = generator.make_customers(count=150, seed=HELD_OUT_SEED)
    api = example.url("api")
    answers = []
    for customer in customers:
        record = {name: customer[name] for name in generator.FIELDS}
        answer = score(api, record)
        assert 0.0 <= answer["score"] <= 1.0
        assert answer["churn"] == (answer["score"] >= THRESHOLD)
        answers.append(answer)
    truth = [customer["churn"] for customer in customers]
    accuracy = sum(a["churn"] == bool(t) for a, t in zip(answers, truth, strict=True)) / len(truth)
    auc = roc_auc_score(truth, [a["score"] for a in answers])
    majority = max(sum(truth), len(truth) - sum(truth)) / len(truth)
    print(
        f"churn-xgboost held-out accuracy {accuracy:.3f} (majority class {majority:.3f}), AUC {auc:.3f}, "
        f"{len(truth)} customers"
    )
    assert accuracy >= ACCURACY_FLOOR
    assert accuracy > majority
    assert auc >= AUC_FLOOR


def test_a_record_missing_a_field_is_a_client_error(example):
    response = httpx.post(
        f"{example.url('api')}/churn",
        content=json.dumps({"plan": "basic"}),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert "contract" in response.json()["error"]


def test_the_algorithm_reported_its_training_auc(example):
    assert example.status["steps"]["train"]["metrics"]["train:auc"] >= AUC_FLOOR


def test_destroy_leaves_nothing_running(example):
    assert_destroyed(example)
