"""tweet-escalation end to end: `GET /{slugified tweet}` answers whether to escalate."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from slugify import slugify

from .conftest import assert_destroyed, load_module

pytestmark = pytest.mark.slow

ACCURACY_FLOOR = 0.85  # on unseen tweets; the generator flips 4% of labels on purpose
HELD_OUT_SEED = 4242


@pytest.fixture(scope="module")
def example(deployed_example):
    return deployed_example("tweet-escalation")


def ask(api: str, path_text: str) -> dict:
    response = httpx.get(f"{api}/{path_text}", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_unseen_tweets_are_triaged_above_the_accuracy_floor(example):
    generator = load_module(example.project / "data" / "make_tweets.py")
    tweets = generator.make_tweets(count=80, seed=HELD_OUT_SEED)
    api = example.url("api")
    correct = 0
    for text, escalate in tweets:
        answer = ask(api, slugify(text))
        assert 0.0 <= answer["probability"] <= 1.0
        assert answer["escalate"] == (answer["probability"] >= 0.5)
        correct += answer["escalate"] == bool(escalate)
    accuracy = correct / len(tweets)
    print(f"tweet-escalation held-out accuracy: {accuracy:.3f} on {len(tweets)} tweets")
    assert accuracy >= ACCURACY_FLOOR


def test_the_slug_and_the_raw_text_get_the_same_answer(example):
    """The handler re-slugifies, so a client that forgot to slugify is read the same way."""
    api = example.url("api")
    text = "My flight was cancelled!! I want a manager now."
    from_slug = ask(api, slugify(text))
    from_raw = ask(api, quote(text, safe=""))
    assert from_slug["text"] == from_raw["text"] == slugify(text).replace("-", " ")
    assert from_slug["probability"] == from_raw["probability"]


def test_angrier_tweets_score_higher(example):
    """The model ranks, not just labels: a threat and a serious problem beat a thank-you."""
    api = example.url("api")
    calm = ask(api, slugify("Thanks for the smooth landing, the crew were wonderful"))
    serious = ask(api, slugify("You lost my bag and my refund was denied. I want a manager now!"))
    assert serious["probability"] > calm["probability"]


def test_training_recorded_its_held_out_metrics(example):
    metrics = example.status["steps"]["train"]["metrics"]
    assert metrics["accuracy"] >= ACCURACY_FLOOR
    assert 0.0 < metrics["f1"] <= 1.0


def test_destroy_leaves_nothing_running(example):
    assert_destroyed(example)
