"""BlazingText stand-in (supervised): English and Korean reviews, trained as a subprocess, served in-process."""

from __future__ import annotations

import json
import random
import unicodedata

import numpy as np
import pytest

from orchestrator.targets.local.algorithms import read_marker
from orchestrator.targets.local.algorithms.blazingtext.text import WordNgrams, tokenize
from tests.builtins.jobs import Job, inference, invoke, metric

ALGORITHM = "blazingtext"
ACCURACY_FLOOR = 0.9  # held-out reviews are new combinations of the training vocabulary; about 1.0

WORDS = {
    "en": {
        1: ["great", "excellent", "wonderful", "loved", "amazing", "fantastic", "brilliant", "delightful"],
        0: ["terrible", "awful", "boring", "hated", "horrible", "dreadful", "disappointing", "dull"],
    },
    "ko": {
        1: ["좋아요", "최고예요", "재미있어요", "훌륭해요", "감동적이에요", "멋져요"],
        0: ["별로예요", "지루해요", "최악이에요", "실망했어요", "싫어요", "형편없어요"],
    },
}
OPENINGS = {
    "en": ["the movie was", "this film is", "honestly the story felt", "the acting was", "overall it was"],
    "ko": ["이 영화 정말", "배우 연기가", "스토리가 너무", "음악도", "오늘 본 영화는", "솔직히"],
}


def reviews(count: int, seed: int, languages=("en", "ko")) -> list[tuple[int, str, str]]:
    """(label, language, sentence): two sentiment words in the review's polarity, some punctuation."""
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        label, language = rng.choice((0, 1)), rng.choice(languages)
        words, openings = WORDS[language][label], OPENINGS[language]
        sentence = (
            f"{rng.choice(openings)} {rng.choice(words)}{rng.choice(['', '!', '.', ' ...'])} "
            f"{rng.choice(openings)} {rng.choice(words)}"
        )
        result.append((label, language, sentence))
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    job = Job(tmp_path_factory.mktemp("bt") / "opt-ml")
    job.write_text("train", [f"__label__{label} {sentence}" for label, _, sentence in reviews(400, seed=1)])
    job.write_text("validation", [f"__label__{label} {sentence}" for label, _, sentence in reviews(100, seed=2)])
    job.write_hyperparameters(
        {"mode": "supervised", "epochs": 10, "learning_rate": 0.05, "word_ngrams": 2, "min_count": 2, "vector_dim": 10}
    )
    finished = job.train(ALGORITHM)
    module = inference(ALGORITHM)
    return job, finished, module, module.model_fn(str(job.model_dir))


@pytest.fixture(scope="module")
def held_out():
    return reviews(200, seed=3)


def test_training_logs_accuracy_as_blazingtext_does(trained):
    job, finished, _, _ = trained
    assert finished.returncode == 0, finished.log
    assert read_marker(job.model_dir) == "blazingtext"
    assert job.marker()["labels"] == ["__label__0", "__label__1"]
    assert metric(finished.log, r"#validation_accuracy: (\S+)") >= ACCURACY_FLOOR
    assert metric(finished.log, r"#train_accuracy: (\S+)") >= ACCURACY_FLOOR
    assert "Number of train examples: 400" in finished.stdout
    assert "vector_dim=10 is ignored by the local stand-in" in finished.stdout


@pytest.mark.parametrize("language", ["en", "ko"])
def test_json_instances_in_each_language(trained, held_out, language):
    _, _, module, model = trained
    rows = [(label, sentence) for label, lang, sentence in held_out if lang == language]
    body = json.dumps({"instances": [sentence for _, sentence in rows]}, ensure_ascii=False).encode("utf-8")
    answer, content_type = invoke(module, model, body, "application/json", "application/json")
    assert content_type == "application/json"
    predictions = json.loads(answer)
    assert len(predictions) == len(rows)
    assert all(set(p) == {"label", "prob"} and len(p["label"]) == len(p["prob"]) == 1 for p in predictions)
    assert all(0.5 <= p["prob"][0] <= 1 for p in predictions)
    predicted = [int(p["label"][0].removeprefix("__label__")) for p in predictions]
    assert np.mean(np.array(predicted) == [label for label, _ in rows]) >= ACCURACY_FLOOR


def test_top_k_from_configuration(trained):
    _, _, module, model = trained
    body = json.dumps(
        {"instances": ["the movie was brilliant!", "스토리가 너무 지루해요"], "configuration": {"k": 2}},
        ensure_ascii=False,
    )
    answer, _ = invoke(module, model, body, "application/json", None)
    positive, negative = json.loads(answer)
    assert positive["label"] == ["__label__1", "__label__0"] and negative["label"] == ["__label__0", "__label__1"]
    for prediction in (positive, negative):
        assert prediction["prob"] == sorted(prediction["prob"], reverse=True)
        assert sum(prediction["prob"]) == pytest.approx(1.0)


def test_jsonlines_answer_in_kind_whatever_the_accept(trained):
    _, _, module, model = trained
    body = "\n".join(
        json.dumps(record, ensure_ascii=False)
        for record in [{"source": "오늘 본 영화는 최고예요"}, {"source": "this film is awful", "k": 2}]
    )
    answer, content_type = invoke(module, model, body.encode("utf-8"), "application/jsonlines", "application/json")
    assert content_type == "application/jsonlines"
    first, second = (json.loads(line) for line in answer.splitlines())
    assert list(first) == ["prob", "label"] and first["label"] == ["__label__1"]
    assert second["label"] == ["__label__0", "__label__1"]


def test_decomposed_hangul_reads_like_composed(trained):
    """Text typed on some systems arrives as decomposed jamo (NFD); it must mean the same words."""
    _, _, module, model = trained
    sentence = "배우 연기가 실망했어요. 음악도 별로예요"
    answers = [
        json.loads(invoke(module, model, json.dumps({"instances": [form]}), "application/json", None)[0])
        for form in (sentence, unicodedata.normalize("NFD", sentence))
    ]
    assert answers[0] == answers[1] and answers[0][0]["label"] == ["__label__0"]


def test_tokens_are_lowercased_words_without_edge_punctuation():
    assert tokenize("The movie was GREAT!! Don't miss it.") == ["the", "movie", "was", "great", "don't", "miss", "it"]
    assert tokenize("이 영화 정말 최고예요!! (강추)") == ["이", "영화", "정말", "최고예요", "강추"]
    ngrams = WordNgrams(2, frozenset({"정말", "최고예요"}))
    assert ngrams("이 영화 정말 최고예요") == ["정말", "최고예요", "이 영화", "영화 정말", "정말 최고예요"]


def test_bad_requests_are_refused_with_the_accepted_types(trained):
    _, _, module, _ = trained
    with pytest.raises(
        ValueError, match="Content-Type text/csv is not supported; use one of: application/json, application/jsonlines"
    ):
        module.input_fn("great movie", "text/csv")
    with pytest.raises(ValueError, match="each instance must be a sentence"):
        module.input_fn(json.dumps({"instances": [[1, 2]]}), "application/json")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        module.input_fn(json.dumps({"instances": ["x"], "configuration": {"k": 0}}), "application/json")


def test_word2vec_modes_fail_clearly(job: Job):
    job.write_text("train", ["the quick brown fox"])
    job.write_hyperparameters({"mode": "cbow", "vector_dim": 50})
    assert job.train(ALGORITHM).returncode != 0
    assert job.failure.read_text().startswith(
        "ClientError: mode cbow (Word2Vec) is not emulated by the local BlazingText; only mode=supervised"
    )


def test_missing_mode_fails_the_job(job: Job):
    job.write_text("train", ["__label__1 fine", "__label__0 bad"])
    job.write_hyperparameters({"epochs": 1})
    assert job.train(ALGORITHM).returncode != 0
    assert job.failure.read_text() == "ClientError: missing required hyperparameter(s) for blazingtext: mode"
