"""Lambda for `POST /churn`: is this customer about to leave?

Takes one customer record as JSON, e.g.
`{"plan": "basic", "contract": "month-to-month", "payment_method": "electronic-check",
  "tenure_months": 3, "monthly_charges": 79.5, "support_calls": 4, "data_gb": 6.2}`,
applies the preprocessing the `features` step fitted (one-hot + scaling), sends the row
to the XGBoost endpoint as text/csv and answers `{"churn": true, "score": 0.87}`, where
`churn` is `score >= THRESHOLD`.

The transform is loaded once per execution environment (at cold start) from
TRANSFORM_URI, the features step's `model.tar.gz` in S3 (the route's `s3_read` lets
this function read exactly that object).
"""

import io
import json
import os
import re
import tarfile

import boto3
import numpy as np

runtime = boto3.client("sagemaker-runtime")


def load_transform(uri: str) -> dict:
    """The fitted values in the archive's `transform.json`."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    archive = boto3.resource("s3").Object(bucket, key).get()["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return json.load(tar.extractfile("transform.json"))


TRANSFORM = load_transform(os.environ["TRANSFORM_URI"])
CATEGORICAL = [column["name"] for column in TRANSFORM["categorical"]]
NUMERIC = [column["name"] for column in TRANSFORM["numeric"]]
MEANS = np.array([column["mean"] for column in TRANSFORM["numeric"]])
SCALES = np.array([column["scale"] for column in TRANSFORM["numeric"]])
THRESHOLD = float(os.environ.get("THRESHOLD", "0.5"))


def respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def features_csv(record: dict) -> str:
    """One CSV line of model features (no header, no label) for a customer record."""
    one_hot = [
        float(str(record[column["name"]]) == category)  # an unknown category is all zeros, as fitted
        for column in TRANSFORM["categorical"]
        for category in column["categories"]
    ]
    scaled = (np.array([float(record[name]) for name in NUMERIC]) - MEANS) / SCALES
    return ",".join(f"{value:.6g}" for value in [*one_hot, *scaled])


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
