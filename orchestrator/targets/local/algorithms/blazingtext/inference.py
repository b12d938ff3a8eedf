"""BlazingText (supervised) inference handlers with the built-in's wire formats.

Requests: `application/json` `{"instances": ["sentence", ...], "configuration": {"k": 2}}`
(`configuration` optional, k defaults to 1), or `application/jsonlines` lines of
`{"source": "sentence", "k": 2}`. Answers in the request's own format (the real algorithm
ignores an Accept that differs): JSON `[{"label": ["__label__1"], "prob": [0.93]}, ...]`,
or one `{"prob": [...], "label": [...]}` per line. Text is UTF-8; any script works (Korean too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from orchestrator.targets.local.algorithms import _wire
from orchestrator.targets.local.algorithms.blazingtext.model import MODEL_FILE, TextClassifier

CONTENT_TYPES = (_wire.JSON, _wire.JSON_LINES)


@dataclass
class Request:
    sentences: list[str]
    ks: list[int]
    mime: str


@dataclass
class Answers:
    top: list[tuple[list[str], list[float]]]
    mime: str


def model_fn(model_dir: str) -> TextClassifier:
    return joblib.load(Path(model_dir) / MODEL_FILE)


def input_fn(body: bytes | str, content_type: str) -> Request:
    mime, _ = _wire.media_type(content_type)
    if mime not in CONTENT_TYPES:
        raise _wire.unsupported("Content-Type", mime, CONTENT_TYPES)
    text = _wire.body_text(body)
    if mime == _wire.JSON:
        payload = _wire.parse_json(text)
        if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
            raise ValueError('the JSON body needs "instances": ["sentence", ...]')
        configuration = payload.get("configuration") or {}
        if not isinstance(configuration, dict):
            raise ValueError('"configuration" must be an object such as {"k": 2}')
        k = _k(configuration.get("k", 1))
        sentences = [_sentence(item) for item in payload["instances"]]
        return Request(sentences, [k] * len(sentences), mime)
    records = [_wire.parse_json(line) for line in text.splitlines() if line.strip()]
    if not all(isinstance(record, dict) and "source" in record for record in records):
        raise ValueError('each JSON line needs "source": "sentence" (and optionally "k")')
    return Request([_sentence(r["source"]) for r in records], [_k(r.get("k", 1)) for r in records], mime)


def predict_fn(data: Request, model: TextClassifier) -> Answers:
    if not data.sentences:
        raise ValueError("the request holds no sentences")
    return Answers(model.top_k(data.sentences, data.ks), data.mime)


def output_fn(prediction: Answers, accept: str | None) -> tuple[str, str]:
    if prediction.mime == _wire.JSON_LINES:
        return _wire.json_lines({"prob": probs, "label": labels} for labels, probs in prediction.top), prediction.mime
    body = [{"label": labels, "prob": probs} for labels, probs in prediction.top]
    return json.dumps(body, ensure_ascii=False), prediction.mime


def _sentence(item: Any) -> str:
    if not isinstance(item, str):
        # a ValueError, as for every bad request: the endpoint answers those with a 4xx
        raise ValueError(f"each instance must be a sentence (a string), got {type(item).__name__}")
    return item


def _k(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit() or int(value) < 1:
        raise ValueError(f"k must be a positive integer, got {value!r}")
    return int(value)
