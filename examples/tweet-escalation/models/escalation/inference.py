"""SageMaker inference handlers for the escalation classifier (scikit-learn container contract).

Accepts `{"instances": ["tweet text", ...]}` (application/json) or one tweet per line
(text/plain), and answers `{"predictions": [{"escalate": true, "probability": 0.93}, ...]}`.
"""

import json
import os

import joblib

ESCALATE_AT = 0.5


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if content_type.startswith("application/json"):
        data = json.loads(body)
        texts = data["instances"] if isinstance(data, dict) else data
    elif content_type.startswith("text/plain"):
        texts = [line for line in body.splitlines() if line.strip()]
    else:
        raise ValueError(f"unsupported content type {content_type}: send application/json or text/plain")
    if not texts or not all(isinstance(text, str) for text in texts):
        raise ValueError('send {"instances": ["tweet text", ...]} with at least one tweet')
    return texts


def predict_fn(texts, model):
    escalate_column = list(model.classes_).index(1)
    probabilities = model.predict_proba(texts)[:, escalate_column]
    return [{"escalate": bool(p >= ESCALATE_AT), "probability": round(float(p), 4)} for p in probabilities]


def output_fn(predictions, accept):
    return json.dumps({"predictions": predictions}), "application/json"
