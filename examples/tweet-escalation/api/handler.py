"""Lambda behind `GET /{text}`: should support escalate this tweet?

The client puts the tweet in the path as a python-slugify slug
(`slugify("My flight was cancelled!!")` -> `my-flight-was-cancelled`). The handler
slugifies again, which leaves a slug unchanged and makes any raw text the same kind
of slug, then turns the hyphens back into spaces; the endpoint's model reads the same
words either way. Answers `{"escalate": true, "probability": 0.93, "text": "..."}`.
"""

import json
import os
from urllib.parse import unquote

import boto3
from slugify import slugify

runtime = boto3.client("sagemaker-runtime")


def unslugify(path_text: str) -> str:
    """`my-flight-was-cancelled` -> `my flight was cancelled`."""
    return slugify(unquote(path_text)).replace("-", " ")


def respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def lambda_handler(event, context):
    text = unslugify((event.get("pathParameters") or {}).get("text") or "")
    if not text:
        return respond(400, {"error": "put the tweet in the path as a slug, e.g. GET /my-flight-was-cancelled"})
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps({"instances": [text]}),
    )
    prediction = json.loads(answer["Body"].read())["predictions"][0]
    return respond(200, {"escalate": prediction["escalate"], "probability": prediction["probability"], "text": text})
