"""Linear Learner inference handlers with the built-in's wire formats.

Requests: `text/csv` rows without label, `application/json`
`{"instances": [{"features": [...]}]}`, or `application/jsonlines` lines of `{"features": [...]}`.
Answers: `application/json` (the default) `{"predictions": [{"score": 0.93, "predicted_label": 1}]}`
(multiclass: `score` is the list of class probabilities; regressors: `score` only), or
`application/jsonlines` with one such record per line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from orchestrator.targets.local.algorithms import _wire
from orchestrator.targets.local.algorithms.linear_learner.model import MODEL_FILE, LinearModel, Scores

CONTENT_TYPES = (_wire.CSV, _wire.JSON, _wire.JSON_LINES)
ACCEPTS = (_wire.JSON, _wire.JSON_LINES)


def model_fn(model_dir: str) -> LinearModel:
    return joblib.load(Path(model_dir) / MODEL_FILE)


def input_fn(body: bytes | str, content_type: str) -> np.ndarray:
    mime, _ = _wire.media_type(content_type)
    if mime not in CONTENT_TYPES:
        raise _wire.unsupported("Content-Type", mime, CONTENT_TYPES)
    return _wire.dense_rows(body, mime)


def predict_fn(data: np.ndarray, model: LinearModel) -> Scores:
    _wire.check_width(data, model.feature_dim)
    return model.predict(data)


def output_fn(prediction: Scores, accept: str | None) -> tuple[str, str]:
    mime, _ = _wire.accept_of(accept, ACCEPTS, _wire.JSON)
    records = [_record(prediction, row) for row in range(len(prediction.scores))]
    if mime == _wire.JSON_LINES:
        return _wire.json_lines(records), mime
    return json.dumps({"predictions": records}), mime


def _record(prediction: Scores, row: int) -> dict[str, Any]:
    score = prediction.scores[row]
    record: dict[str, Any] = {"score": score.tolist() if np.ndim(score) else float(score)}
    if prediction.predicted_labels is not None:
        record["predicted_label"] = int(prediction.predicted_labels[row])
    return record
