"""SageMaker inference handlers for the iris model (the scikit-learn container contract).

Accepts `{"instances": [[5.1, 3.5, 1.4, 0.2], ...]}` as JSON or rows of CSV, and
answers `{"predictions": [{"species": ..., "probabilities": {...}}]}`.
"""

import csv
import io
import json
import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if content_type.startswith("application/json"):
        data = json.loads(body)
        rows = data["instances"] if isinstance(data, dict) else data
    elif content_type.startswith("text/csv"):
        rows = [r for r in csv.reader(io.StringIO(body)) if r]
    else:
        raise ValueError(f"unsupported content type {content_type}: send application/json or text/csv")
    return [[float(v) for v in row] for row in rows]


def predict_fn(rows, model):
    probabilities = model.predict_proba(rows)
    return [
        {"species": model.classes_[p.argmax()], "probabilities": dict(zip(model.classes_, map(float, p), strict=True))}
        for p in probabilities
    ]


def output_fn(predictions, accept):
    return json.dumps({"predictions": predictions}), "application/json"
