"""k-NN inference handlers with the built-in's wire formats.

Requests: `text/csv` rows (no label; `label_size=1` in the content type drops a leading one),
`application/json` `{"instances": [{"features": [...]}]}`, `application/jsonlines` lines of
`{"features": [...]}`. Answers: `application/json` `{"predictions": [{"predicted_label": 8.0}]}`
or `application/jsonlines` one `{"predicted_label": 8.0}` per line; `verbose=true` in the
Accept header adds each row's neighbour `distances` (ascending) and `labels`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from orchestrator.targets.local.algorithms import _wire
from orchestrator.targets.local.algorithms.knn.model import MODEL_FILE, NeighbourModel, Neighbours

CONTENT_TYPES = (_wire.CSV, _wire.JSON, _wire.JSON_LINES)
ACCEPTS = (_wire.JSON, _wire.JSON_LINES)


def model_fn(model_dir: str) -> NeighbourModel:
    return joblib.load(Path(model_dir) / MODEL_FILE)


def input_fn(body: bytes | str, content_type: str) -> np.ndarray:
    mime, params = _wire.media_type(content_type)
    if mime not in CONTENT_TYPES:
        raise _wire.unsupported("Content-Type", mime, CONTENT_TYPES)
    rows = _wire.dense_rows(body, mime)
    if mime == _wire.CSV:
        label_size = params.get("label_size", "0")
        if label_size not in ("0", "1"):
            raise ValueError("text/csv label_size must be 0 or 1")
        rows = rows[:, int(label_size) :]
    return rows


def predict_fn(data: np.ndarray, model: NeighbourModel) -> Neighbours:
    _wire.check_width(data, model.feature_dim)
    return model.predict(data)


def output_fn(prediction: Neighbours, accept: str | None) -> tuple[str, str]:
    mime, params = _wire.accept_of(accept, ACCEPTS, _wire.JSON)
    verbose = params.get("verbose", "false").lower() == "true"
    records = [_record(prediction, row, verbose) for row in range(len(prediction.predicted_labels))]
    if mime == _wire.JSON_LINES:
        return _wire.json_lines(records), mime
    return json.dumps({"predictions": records}), mime


def _record(prediction: Neighbours, row: int, verbose: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"predicted_label": float(prediction.predicted_labels[row])}
    if verbose:
        record["distances"] = [float(value) for value in prediction.distances[row]]
        record["labels"] = [float(value) for value in prediction.labels[row]]
    return record
