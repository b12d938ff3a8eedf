"""Files of the small fixture project the local target's tests serve: real models, real handlers."""

from __future__ import annotations

import tarfile
import textwrap
from pathlib import Path

LAMBDA_HANDLERS = '''
import base64
import json
import os
import time

_clients = {}


def runtime():
    """Created on first use, so the other functions in this file start without boto3."""
    if not _clients:
        import boto3

        _clients["runtime"] = boto3.client("sagemaker-runtime")
    return _clients["runtime"]


def predict(event, context):
    answer = runtime().invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"], ContentType="application/json",
        Accept="application/json", Body=event["body"] or "",
    )
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": answer["Body"].read().decode()}


def echo(event, context):
    print("echo handler saw", event["path"])
    facts = {
        "function_name": context.function_name,
        "aws_request_id": context.aws_request_id,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    env = {k: os.environ.get(k) for k in (
        "ENDPOINT_NAME", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID", "GREETING")}
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Single": "one"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps({"event": event, "context": facts, "env": env, "cwd": os.getcwd()}),
    }


def binary(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(bytes([0, 255, 1]) + b"bin").decode(), "isBase64Encoded": True}


def own_cors(event, context):
    return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://own.example"}, "body": "{}"}


def boom(event, context):
    raise RuntimeError("secret detail that stays in the log")


def malformed(event, context):
    return {"statusCode": 200, "body": {"a dict": "is not a string"}}


def bad_headers(event, context):
    return {"statusCode": 200, "headers": "not a mapping", "body": "{}"}


def not_a_dict(event, context):
    return "just a string"


def isolation(event, context):
    """What the function can see of this machine: its environment, sys.path, importable packages."""
    import importlib.util
    import sys

    names = ("boto3", "numpy", "pydantic", "orchestrator", "yaml", "starlette")
    return {"statusCode": 200, "body": json.dumps({
        "env": dict(os.environ),
        "path": sys.path,
        "found": {name: importlib.util.find_spec(name) is not None for name in names},
        "boto3": os.path.dirname(importlib.util.find_spec("boto3").origin),
        "flags": [sys.flags.isolated, sys.flags.no_site],
        "cwd": os.getcwd(),
    })}


def read_s3(event, context):
    import boto3

    query = event["queryStringParameters"]
    try:
        body = boto3.client("s3").get_object(Bucket=query["bucket"], Key=query["key"])["Body"].read().decode()
        return {"statusCode": 200, "body": json.dumps({"body": body})}
    except Exception as exc:
        return {"statusCode": 200, "body": json.dumps({"error": getattr(exc, "response", {}).get("Error", {})})}


def hog(event, context):
    hoard = bytearray(int((event["queryStringParameters"] or {}).get("mb", "0")) * 1024 * 1024)
    for i in range(0, len(hoard), 4096):
        hoard[i] = 1  # touch every page, so the memory is really used
    time.sleep(float((event["queryStringParameters"] or {}).get("hold", "0")))
    return {"statusCode": 200, "body": json.dumps({"held_mb": len(hoard) // (1024 * 1024)})}


def slow(event, context):
    time.sleep(float((event["queryStringParameters"] or {}).get("s", "0")))
    return {"statusCode": 200, "body": json.dumps({"pid": os.getpid()})}
'''

# A module that overrides input/output and reads custom attributes through `context`.
CUSTOM_INFERENCE = """
import json
import time


def input_fn(body, content_type, context):
    data = json.loads(body)
    time.sleep(data.get("sleep", 0))
    context.response_custom_attributes = "seen=" + (context.custom_attributes or "none")
    return data["instances"]


def output_fn(prediction, accept):
    return "labels:" + ",".join(str(int(p)) for p in prediction), "text/plain"
"""

TRANSFORM_INFERENCE = """
import json


def model_fn(model_dir):
    with open(model_dir + "/weights.json") as handle:
        return json.load(handle)


def transform_fn(model, body, content_type, accept):
    value = json.loads(body)["x"]
    return json.dumps({"y": value * model["scale"], "accept": accept}), "application/json"
"""

INDEX_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Predict</title><script src="config.js"></script></head>
<body>
<input id="value" value="">
<button id="go">Predict</button>
<div id="answer"></div>
<script>
document.getElementById("go").addEventListener("click", async () => {
  const value = Number(document.getElementById("value").value);
  const response = await fetch(window.APP_CONFIG.apiUrl + "/predict", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({instances: [[value]]}),
  });
  const data = await response.json();
  document.getElementById("answer").textContent = "class " + data.predictions[0];
});
</script>
</body></html>
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def pack(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(folder.iterdir()):
            tar.add(item, arcname=item.name)
    return archive


def threshold_model(root: Path, name: str, labels: tuple[int, int]) -> Path:
    """A real scikit-learn classifier: x < 1.5 -> labels[0], else labels[1]."""
    import joblib
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier().fit([[0.0], [1.0], [2.0], [3.0]], [labels[0], labels[0], labels[1], labels[1]])
    folder = root / f"{name}-files"
    folder.mkdir(parents=True)
    joblib.dump(model, folder / "model.joblib")
    return pack(folder, root / f"{name}.tar.gz")


# A Chalice app as written for AWS; its requirements forgot chalice, so it cannot import.
CHALICE_APP = """
from chalice import Chalice

app = Chalice(app_name="forgot-chalice")


@app.route("/")
def index():
    return {"hello": "world"}
"""

PACKED_INFERENCE = """
import json


def model_fn(model_dir):
    return "packed"


def transform_fn(model, body, content_type, accept):
    return json.dumps({"served_by": model}), "application/json"
"""


def packed_code_model(root: Path) -> Path:
    """SageMaker's convention: an archive that carries its own code/inference.py."""
    folder = root / "packed-files"
    write(folder / "code" / "inference.py", PACKED_INFERENCE)
    return pack(folder, root / "packed.tar.gz")


def builtin_knn_model(root: Path) -> Path:
    """A model as the local k-NN stand-in trains it: its files plus the algorithm marker."""
    import joblib
    import numpy as np

    from orchestrator.targets.local.algorithms import MARKER_FILE
    from orchestrator.targets.local.algorithms.knn.model import MODEL_FILE, NeighbourModel

    model = NeighbourModel.fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]), 1, "classifier", "L2")
    folder = root / "knn-files"
    folder.mkdir()
    joblib.dump(model, folder / MODEL_FILE)
    (folder / MARKER_FILE).write_text('{"algorithm": "knn"}')
    return pack(folder, root / "knn.tar.gz")


def build_project(root: Path) -> dict[str, Path]:
    """Models, inference modules, Lambda handlers and a website under `root`."""
    files = {
        "model_v1": threshold_model(root, "model-v1", (0, 1)),
        "model_v2": threshold_model(root, "model-v2", (7, 8)),
        "custom_inference": write(root / "models" / "custom" / "inference.py", CUSTOM_INFERENCE),
        "transform_inference": write(root / "models" / "transform" / "inference.py", TRANSFORM_INFERENCE),
        "handlers": write(root / "api" / "handlers.py", LAMBDA_HANDLERS),
        "private": write(root / "api" / ".env", "SECRET=never bundled"),
        "chalice_app": write(root / "chalice_api" / "app.py", CHALICE_APP),
        "chalice_requirements": write(root / "chalice_api" / "requirements.txt", "python-slugify>=8.0\n"),
    }
    weights = root / "transform-files"
    weights.mkdir()
    (weights / "weights.json").write_text('{"scale": 3}')
    files["transform_model"] = pack(weights, root / "transform.tar.gz")
    site = root / "web"
    write(site / "index.html", INDEX_PAGE)
    write(site / "error.html", "<html><body>custom error page</body></html>")
    write(site / "style.css", "body { color: black; }")
    write(site / "app.js", "console.log('hi');")
    write(site / "docs" / "index.html", "<html><body>docs index</body></html>")
    (site / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    outside = root / "outside"
    write(outside / "secret.txt", "TOP SECRET")
    (site / "link").symlink_to(outside, target_is_directory=True)
    (site / "escape.txt").symlink_to(outside / "secret.txt")
    files["site"] = site
    files["root"] = root
    return files
