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


def cors_headers(event) -> dict:
    """A Lambda proxy answer carries only the headers the function returns, so the page's origin
    (ALLOWED_ORIGIN) is allowed here: https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html
    Header names arrive as the client sent them: look Origin up case-insensitively."""
    origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    if origin and origin.rstrip("/") == os.environ.get("ALLOWED_ORIGIN", "").rstrip("/"):
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


def respond(status, body, event=None):
    headers = {"Content-Type": "application/json", **cors_headers(event or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def read_entry(event) -> list[float]:
    entry = json.loads(event.get("body") or "{}")["entry"]
    if len(entry) != QUESTIONS or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in entry):
        raise ValueError(f"entry needs {QUESTIONS} numbers")
    return entry


def lambda_handler(event, context):
    try:
        entry = read_entry(event)
    except (ValueError, KeyError, TypeError):
        return respond(400, {"error": f'send {{"entry": [{QUESTIONS} answers as numbers]}}'}, event)
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="application/jsonlines",
        Accept="application/json",
        Body=json.dumps({"features": entry}),
    )
    label = json.loads(answer["Body"].read())["predictions"][0]["predicted_label"]
    return respond(200, {"recommendedMysfit": str(int(label))}, event)
