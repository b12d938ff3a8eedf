"""Lambda for `POST /churn`: is this customer about to leave?

Takes one customer record as JSON, e.g.
`{"plan": "basic", "contract": "month-to-month", "payment_method": "electronic-check",
  "tenure_months": 3, "monthly_charges": 79.5, "support_calls": 4, "data_gb": 6.2}`,
applies the preprocessing the `features` step fitted (one-hot + scaling), sends the row
to the XGBoost endpoint as text/csv and answers `{"churn": true, "score": 0.87}`, where
`churn` is `score >= THRESHOLD`.

The transform is loaded once per execution environment (at cold start) from
TRANSFORM_URI: the features step's `model.tar.gz`, a `file://` path on the local target
or an `s3://` object on AWS.
"""

import json
import os
import re
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import boto3
import joblib
import numpy as np

runtime = boto3.client("sagemaker-runtime")


def fetch_artifact(uri: str, into: Path) -> Path:
    """A local path to the `model.tar.gz` at `uri` (s3:// is downloaded, file:// is used in place)."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        local = into / "model.tar.gz"
        boto3.client("s3").download_file(parsed.netloc, unquote(parsed.path.lstrip("/")), str(local))
        return local
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path))
    raise ValueError(f"TRANSFORM_URI must be an s3:// or file:// URI, got {uri!r}")


def load_transform(uri: str):
    """The fitted ColumnTransformer and the field order it expects."""
    folder = Path(tempfile.mkdtemp(prefix="transform-"))
    with tarfile.open(fetch_artifact(uri, folder)) as archive:
        archive.extractall(folder, filter="data")
    fields = json.loads((folder / "fields.json").read_text())
    return joblib.load(folder / "transform.joblib"), fields["categorical"], fields["numeric"]


TRANSFORM, CATEGORICAL, NUMERIC = load_transform(os.environ["TRANSFORM_URI"])
THRESHOLD = float(os.environ.get("THRESHOLD", "0.5"))


def respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def features_csv(record: dict) -> str:
    """One CSV line of model features (no header, no label) for a customer record."""
    row = [str(record[name]) for name in CATEGORICAL] + [float(record[name]) for name in NUMERIC]
    features = TRANSFORM.transform(np.array([row], dtype=object))
    return ",".join(f"{value:.6g}" for value in features[0])


def lambda_handler(event, context):
    try:
        record = json.loads(event.get("body") or "{}")
        body = features_csv(record)
    except (ValueError, KeyError, TypeError) as exc:
        fields = ", ".join(f'"{name}"' for name in CATEGORICAL + NUMERIC)
        return respond(400, {"error": f"send one customer as a JSON object with {fields}", "detail": str(exc)})
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"], ContentType="text/csv", Accept="text/csv", Body=body
    )
    # One score per line (comma-separated in older XGBoost containers): the first is this customer's.
    score = float(re.split(r"[,\s]+", answer["Body"].read().decode("utf-8").strip())[0])
    return respond(200, {"churn": score >= THRESHOLD, "score": round(score, 4)})
