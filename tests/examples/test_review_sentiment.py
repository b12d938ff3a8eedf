"""review-sentiment end to end: BlazingText through a Lambda, English and Korean, and the web page."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import assert_destroyed, load_module

pytestmark = pytest.mark.slow

ACCURACY_FLOOR = 0.8  # per language, on unseen reviews; a fifth of them mix praise and complaint
HELD_OUT = {"en": 9001, "ko": 9002}  # language -> seed


@pytest.fixture(scope="module")
def example(deployed_example):
    return deployed_example("review-sentiment")


@pytest.fixture(scope="module")
def generator(example):
    return load_module(example.project / "data" / "make_reviews.py")


def ask(api: str, queries: list[str]) -> list[dict]:
    """POST the reviews as UTF-8 JSON (Korean as raw bytes, not \\u escapes), as a browser sends it."""
    body = json.dumps({"sentences": [{"query": q} for q in queries]}, ensure_ascii=False).encode("utf-8")
    response = httpx.post(
        f"{api}/sentiment", content=body, headers={"Content-Type": "application/json; charset=utf-8"}, timeout=60
    )
    assert response.status_code == 200, response.text
    return json.loads(response.content.decode("utf-8"))


def ask_in_batches(api: str, queries: list[str], batch: int = 40) -> list[dict]:
    """The Lambda takes at most 50 sentences a request, as a page would send them."""
    return [answer for start in range(0, len(queries), batch) for answer in ask(api, queries[start : start + batch])]


def label_of(answer: dict) -> str:
    return answer["label"][0].removeprefix("__label__")


@pytest.mark.parametrize("language", sorted(HELD_OUT))
def test_unseen_reviews_are_read_above_the_accuracy_floor(example, generator, language):
    reviews = generator.make_reviews(120, seed=HELD_OUT[language], language=language)
    answers = ask_in_batches(example.url("api"), [text for text, _ in reviews])
    assert len(answers) == len(reviews)
    for answer in answers:
        assert len(answer["label"]) == len(answer["prob"]) >= 1
        assert answer["label"][0] in ("__label__positive", "__label__negative")
        assert 0.0 <= answer["prob"][0] <= 1.0
    accuracy = sum(label_of(a) == label for a, (_, label) in zip(answers, reviews, strict=True)) / len(reviews)
    print(f"review-sentiment held-out accuracy ({language}): {accuracy:.3f} on {len(reviews)} reviews")
    assert accuracy >= ACCURACY_FLOOR


def test_answers_follow_the_order_of_the_sentences(example, generator):
    reviews = generator.make_reviews(6, seed=5, language="en") + generator.make_reviews(6, seed=6, language="ko")
    api = example.url("api")
    together = ask(api, [text for text, _ in reviews])
    one_by_one = [ask(api, [text])[0] for text, _ in reviews]
    assert [label_of(a) for a in together] == [label_of(a) for a in one_by_one]


def test_cors_lets_the_page_call_the_api(example):
    response = httpx.options(
        f"{example.url('api')}/sentiment",
        headers={
            "Origin": example.url("site"),
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] in ("*", example.url("site"))


@pytest.mark.parametrize("payload", [{"query": "no sentences key"}, {"sentences": [{"query": "ok"}] * 51}])
def test_a_request_without_sentences_or_with_too_many_is_a_client_error(example, payload):
    response = httpx.post(f"{example.url('api')}/sentiment", json=payload, timeout=30)
    assert response.status_code == 400
    assert "sentences" in response.json()["error"]


def test_the_site_serves_the_page_and_its_config(example):
    site = example.url("site")
    page = httpx.get(site + "/", timeout=30)
    assert page.status_code == 200 and 'id="review"' in page.text
    config = httpx.get(site + "/config.js", timeout=30)
    assert config.status_code == 200 and example.url("api") in config.text
    assert httpx.get(site + "/no-such-page", timeout=30).status_code == 404


@pytest.mark.browser
def test_a_person_types_english_and_korean_reviews_and_sees_the_answer(example, generator, chromium):
    """The page the site serves calls the API on another port and shows the model's label."""
    reviews = [
        ("The headphones arrived fast, great quality! Highly recommend it.", "positive"),
        ("이 신발 최악이에요. 돈 아까워요, 환불하고 싶어요", "negative"),
    ]
    expected_from_api = [label_of(a) for a in ask(example.url("api"), [text for text, _ in reviews])]
    page = chromium.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(example.url("site") + "/", wait_until="load")
    for (text, sentiment), from_api in zip(reviews, expected_from_api, strict=True):
        page.fill("#review", text)
        page.click("button[type=submit]")
        page.wait_for_function("document.getElementById('result').dataset.label !== undefined", timeout=30000)
        shown = page.get_attribute("#result", "data-label")
        assert shown == from_api == sentiment, page.text_content("#result")
        assert page.text_content("#result").startswith(sentiment)
    assert failed == []


def test_the_algorithm_reported_its_validation_accuracy(example):
    """BlazingText scores the `validation` channel itself; the spec's metric regex reads it from the log."""
    assert example.status["steps"]["train"]["metrics"]["validation:accuracy"] >= ACCURACY_FLOOR


def test_destroy_leaves_nothing_running(example):
    assert_destroyed(example)
