"""XGBoost inference handlers with the built-in container's wire formats.

Requests: `text/csv` rows without header or label (the default content type), or
`text/libsvm` lines (`<label> <index>:<value> ...`, the label ignored).
Answers, as the single-model SageMaker XGBoost container (1.5 and later) encodes them:
`text/csv` (the default Accept) writes one prediction per line, the values of a multi-output
prediction (multi:softprob) comma-separated on its line; `application/json` writes
`{"predictions": [{"score": 0.93}, ...]}`, `score` a list for multi-output objectives.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.targets.local.algorithms import _wire
from orchestrator.targets.local.algorithms.xgboost_algo.train import MODEL_FILE

LIBSVM_TYPES = ("text/libsvm", "text/x-libsvm")
CONTENT_TYPES = (_wire.CSV, *LIBSVM_TYPES)
ACCEPTS = (_wire.CSV, _wire.JSON)


@dataclass
class Model:
    booster: Any
    num_feature: int


def model_fn(model_dir: str) -> Model:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray((Path(model_dir) / MODEL_FILE).read_bytes()))
    return Model(booster, booster.num_features())


def input_fn(body: bytes | str, content_type: str | None) -> Any:
    mime, _ = _wire.content_type_of(content_type, CONTENT_TYPES, default=_wire.CSV)
    if mime == _wire.CSV:
        return _wire.dense_rows(body, mime)
    from sklearn.datasets import load_svmlight_file

    try:
        rows, _ = load_svmlight_file(
            io.BytesIO(_wire.body_text(body).encode("utf-8")), zero_based=True, dtype=np.float32
        )
    except ValueError as exc:
        raise ValueError(f"the text/libsvm body could not be read: {exc}") from None
    return rows


def predict_fn(data: Any, model: Model) -> np.ndarray:
    import xgboost as xgb

    if data.shape[1] > model.num_feature or (isinstance(data, np.ndarray) and data.shape[1] != model.num_feature):
        raise ValueError(f"each row needs {model.num_feature} features (as the model was trained), got {data.shape[1]}")
    if data.shape[1] < model.num_feature:  # sparse LIBSVM rows may omit trailing zero features
        data = _widen(data, model.num_feature)
    return model.booster.predict(xgb.DMatrix(data))


def output_fn(prediction: np.ndarray, accept: str | None) -> tuple[str, str]:
    mime, _ = _wire.accept_of(accept, ACCEPTS, default=_wire.CSV)
    values = prediction.tolist()
    if mime == _wire.JSON:
        return json.dumps({"predictions": [{"score": value} for value in values]}), mime
    lines = [",".join(map(str, value)) if isinstance(value, list) else str(value) for value in values]
    return "".join(line + "\n" for line in lines), mime


def _widen(rows: Any, width: int) -> Any:
    import scipy.sparse

    return scipy.sparse.csr_matrix((rows.data, rows.indices, rows.indptr), shape=(rows.shape[0], width))
