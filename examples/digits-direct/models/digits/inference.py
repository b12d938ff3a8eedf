"""SageMaker inference handlers that answer as TensorFlow Serving does.

The API's direct route passes the client's body to the endpoint untouched, so the
endpoint itself speaks the TF Serving REST format: request `{"instances": [image, ...]}`
with each image 64 pixel values (0-16), flat or as 8 rows of 8; response
`{"predictions": [[p0, p1, ..., p9], ...]}`, the probability of each digit in order.
"""

import json
import os

import joblib
import numpy as np

PIXELS = 64
DIGITS = list(range(10))


def model_fn(model_dir):
    model = joblib.load(os.path.join(model_dir, "model.joblib"))
    if list(model.classes_) != DIGITS:
        raise ValueError(f"the model knows classes {list(model.classes_)}, expected the digits 0-9")
    return model


def input_fn(body, content_type):
    if not content_type.startswith("application/json"):
        raise ValueError(f"unsupported content type {content_type}: send application/json")
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    data = json.loads(body)
    instances = data.get("instances") if isinstance(data, dict) else None
    if not instances:
        raise ValueError('send {"instances": [[64 pixel values], ...]}')
    try:
        images = np.asarray(instances, dtype=np.float64).reshape(len(instances), -1)
    except ValueError:
        raise ValueError("every instance must be 64 numbers (or 8 rows of 8)") from None
    if images.shape[1] != PIXELS:
        raise ValueError(f"every instance must be {PIXELS} pixel values, got {images.shape[1]}")
    return images


def predict_fn(images, model):
    return model.predict_proba(images)


def output_fn(probabilities, accept):
    return json.dumps({"predictions": probabilities.tolist()}), "application/json"
