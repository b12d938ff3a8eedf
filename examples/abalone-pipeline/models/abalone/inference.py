"""SageMaker inference handlers for the abalone regressor (the scikit-learn container contract).

Takes the `prepare` step's feature rows (sex one-hot M, F, I, then length, diameter,
height, whole, shucked, viscera and shell weight), as `{"instances": [[...], ...]}` JSON
or as CSV lines, and answers the predicted ring count of each: `{"predictions": [9.8, ...]}`
for JSON, one number per line for `Accept: text/csv` (what the batch transform asks for).
"""

import csv
import io
import json
import os

import joblib

FEATURES = 10


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if content_type.startswith("application/json"):
        data = json.loads(body)
        rows = data["instances"] if isinstance(data, dict) else data
    elif content_type.startswith("text/csv"):
        rows = [row for row in csv.reader(io.StringIO(body)) if row]
    else:
        raise ValueError(f"unsupported content type {content_type}: send application/json or text/csv")
    rows = [[float(v) for v in row] for row in rows]
    if not rows or any(len(row) != FEATURES for row in rows):
        raise ValueError(f"each instance needs {FEATURES} features: sex as M, F, I one-hot, then 7 measurements")
    return rows


def predict_fn(rows, model):
    return [round(float(v), 3) for v in model.predict(rows)]


def output_fn(predictions, accept):
    if accept and accept.startswith("text/csv"):
        return "".join(f"{v}\n" for v in predictions), "text/csv"
    return json.dumps({"predictions": predictions}), "application/json"
