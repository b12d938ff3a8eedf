"""Lambda for `POST /recommendations`: which mysfit suits this person?

Takes the five questionnaire answers, `{"entry": [1, 2, 3, 4, 5]}`, asks the k-NN
endpoint with one JSON line `{"features": [...]}` (application/jsonlines), reads
`predictions[0].predicted_label` from the answer (`{"predictions": [{"predicted_label": 7.0}]}`)
and answers `{"recommendedMysfit": "7"}`.
"""

import json
import os

import boto3

QUESTIONS = 5
runtime = boto3.client("sagemaker-runtime")


def respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def read_entry(event) -> list[float]:
    entry = json.loads(event.get("body") or "{}")["entry"]
    if len(entry) != QUESTIONS or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in entry):
        raise ValueError(f"entry needs {QUESTIONS} numbers")
    return entry


def lambda_handler(event, context):
    try:
        entry = read_entry(event)
    except (ValueError, KeyError, TypeError):
        return respond(400, {"error": f'send {{"entry": [{QUESTIONS} answers as numbers]}}'})
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="application/jsonlines",
        Accept="application/json",
        Body=json.dumps({"features": entry}),
    )
    label = json.loads(answer["Body"].read())["predictions"][0]["predicted_label"]
    return respond(200, {"recommendedMysfit": str(int(label))})
