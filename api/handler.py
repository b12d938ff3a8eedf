"""Lambda proxy for the iris endpoint: the same code runs on AWS Lambda and locally.

POST /predict with {"measurements": {"sepal_length": 5.1, ...}} -> {"species": ..., "confidence": ...}
"""

import json
import os

import boto3

FIELDS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
runtime = boto3.client("sagemaker-runtime")


def respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def lambda_handler(event, context):
    try:
        measurements = json.loads(event.get("body") or "{}")["measurements"]
        row = [float(measurements[name]) for name in FIELDS]
    except (ValueError, KeyError, TypeError):
        return respond(400, {"error": 'send {"measurements": {' + ", ".join(f'"{f}": number' for f in FIELDS) + "}}"})
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps({"instances": [row]}),
    )
    prediction = json.loads(answer["Body"].read())["predictions"][0]
    confidence = prediction["probabilities"][prediction["species"]]
    return respond(200, {"species": prediction["species"], "confidence": round(confidence, 4)})
