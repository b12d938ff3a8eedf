"""recommender-knn end to end: a browser origin's preflight, then recommendations from k-NN."""

from __future__ import annotations

import csv
import json

import httpx
import pytest

from .conftest import assert_destroyed, load_module

pytestmark = pytest.mark.slow

SITE_ORIGIN = "http://localhost:8000"  # the spec's default for MYSFITS_SITE_ORIGIN
ACCURACY_FLOOR = 0.85  # k=5 on five noisy answers; exact k-NN gets about 0.95
HELD_OUT_SEED = 777


@pytest.fixture(scope="module")
def example(deployed_example):
    return deployed_example("recommender-knn")


def recommend(api: str, entry: list[int], origin: str = SITE_ORIGIN) -> httpx.Response:
    return httpx.post(
        f"{api}/recommendations",
        content=json.dumps({"entry": entry}),
        headers={"Content-Type": "application/json", "Origin": origin},
        timeout=30,
    )


def test_preflight_from_the_site_origin_allows_the_post(example):
    response = httpx.options(
        f"{example.url('api')}/recommendations",
        headers={
            "Origin": SITE_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] in (SITE_ORIGIN, "*")
    assert "POST" in response.headers["access-control-allow-methods"].split(",")
    allowed_headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert "content-type" in allowed_headers


def test_preflight_from_another_origin_is_not_allowed(example):
    response = httpx.options(
        f"{example.url('api')}/recommendations",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
        },
        timeout=30,
    )
    assert "access-control-allow-origin" not in response.headers


def test_the_answer_carries_the_cors_header_and_a_mysfit_id(example):
    response = recommend(example.url("api"), [5, 5, 1, 1, 5])
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] in (SITE_ORIGIN, "*")
    answer = response.json()
    assert list(answer) == ["recommendedMysfit"]
    assert isinstance(answer["recommendedMysfit"], str)
    generator = load_module(example.project / "data" / "make_mysfits.py")
    assert int(answer["recommendedMysfit"]) in generator.PROFILES


def test_unseen_people_get_their_mysfit_above_the_accuracy_floor(example):
    generator = load_module(example.project / "data" / "make_mysfits.py")
    with (example.project / "data" / "mysfits.test.csv").open() as f:
        shipped_test = [(int(row[0]), [int(v) for v in row[1:]]) for row in csv.reader(f)]
    people = shipped_test + generator.make_people(per_mysfit=5, seed=HELD_OUT_SEED)
    api = example.url("api")
    correct = 0
    for mysfit, entry in people:
        response = recommend(api, entry)
        assert response.status_code == 200, response.text
        correct += response.json()["recommendedMysfit"] == str(mysfit)
    accuracy = correct / len(people)
    print(f"recommender-knn held-out accuracy: {accuracy:.3f} on {len(people)} people")
    assert accuracy >= ACCURACY_FLOOR


def test_a_short_entry_is_a_client_error(example):
    response = recommend(example.url("api"), [1, 2])
    assert response.status_code == 400
    assert "entry" in response.json()["error"]


def test_the_algorithm_reported_its_test_channel_accuracy(example):
    """k-NN scores the `test` channel itself; the spec's metric regex reads it from the log."""
    assert example.status["steps"]["train"]["metrics"]["test:accuracy"] >= ACCURACY_FLOOR


def test_destroy_leaves_nothing_running(example):
    assert_destroyed(example)
