"""digits-direct end to end: TensorFlow Serving's format through a direct route, no Lambda."""

from __future__ import annotations

import csv
import json
import math

import httpx
import pytest

from .conftest import assert_destroyed

pytestmark = pytest.mark.slow

ACCURACY_FLOOR = 0.95  # on the 360 held-out images; an RBF SVM gets about 0.99
DIGITS = 10


@pytest.fixture(scope="module")
def example(deployed_example):
    return deployed_example("digits-direct")


@pytest.fixture(scope="module")
def held_out(example) -> list[tuple[int, list[int]]]:
    with (example.project / "data" / "digits.test.csv").open() as f:
        return [(int(row[0]), [int(v) for v in row[1:]]) for row in csv.reader(f)]


def predict(api: str, instances: list) -> list[list[float]]:
    """As curl would: raw JSON text in, JSON text out."""
    response = httpx.post(
        f"{api}/predict",
        content=json.dumps({"instances": instances}),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert list(answer) == ["predictions"]
    return answer["predictions"]


def test_held_out_images_are_read_above_the_accuracy_floor(example, held_out):
    predictions = predict(example.url("api"), [pixels for _, pixels in held_out])
    assert len(predictions) == len(held_out)
    for probabilities in predictions:
        assert len(probabilities) == DIGITS
        assert math.isclose(sum(probabilities), 1.0, abs_tol=1e-6)
        assert all(0.0 <= p <= 1.0 for p in probabilities)
    correct = sum(
        max(range(DIGITS), key=p.__getitem__) == label for p, (label, _) in zip(predictions, held_out, strict=True)
    )
    accuracy = correct / len(held_out)
    print(f"digits-direct held-out accuracy: {accuracy:.3f} on {len(held_out)} images")
    assert accuracy >= ACCURACY_FLOOR


def test_one_image_as_eight_rows_of_eight_gets_the_same_answer(example, held_out):
    _, pixels = held_out[0]
    api = example.url("api")
    flat = predict(api, [pixels])
    square = predict(api, [[pixels[row * 8 : (row + 1) * 8] for row in range(8)]])
    assert flat == square


def test_the_direct_route_returns_the_endpoints_own_answer(example, held_out):
    """No Lambda in between: the API answers exactly what the endpoint does."""
    body = json.dumps({"instances": [pixels for _, pixels in held_out[:5]]})
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    through_api = httpx.post(f"{example.url('api')}/predict", content=body, headers=headers, timeout=60)
    from_endpoint = httpx.post(example.url("deploy"), content=body, headers=headers, timeout=60)
    assert through_api.status_code == from_endpoint.status_code == 200
    assert through_api.json() == from_endpoint.json()


def test_a_malformed_image_is_a_client_error(example):
    response = httpx.post(
        f"{example.url('api')}/predict",
        content=json.dumps({"instances": [[1, 2, 3]]}),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert 400 <= response.status_code < 500


def test_training_recorded_its_validation_accuracy(example):
    assert example.status["steps"]["train"]["metrics"]["validation_accuracy"] >= ACCURACY_FLOOR


def test_destroy_leaves_nothing_running(example):
    assert_destroyed(example)
