"""Lambda for `POST /sentiment`: BlazingText's answer for each review sentence.

Takes `{"sentences": [{"query": "I loved it!"}, {"query": "정말 좋아요"}]}`, sends
`{"instances": ["i loved it !", "정말 좋아요"]}` to the endpoint and returns the
endpoint's answer unchanged: `[{"label": ["__label__positive"], "prob": [0.97]}, ...]`,
one entry per sentence in order. BlazingText splits on spaces only, so each query is
lower-cased and its punctuation split off, as the training data was. UTF-8 throughout.
"""

import base64
import json
import os
import re

import boto3

MAX_SENTENCES = 50
runtime = boto3.client("sagemaker-runtime")


def tokenize(text: str) -> str:
    """Lower-case words and punctuation as separate space-separated tokens (Unicode-aware, so Korean works)."""
    return " ".join(re.findall(r"\w+|[^\w\s]", text.lower()))


def respond(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": body if isinstance(body, str) else json.dumps(body, ensure_ascii=False),
    }


def read_queries(event) -> list[str]:
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    sentences = json.loads(body)["sentences"]
    queries = [tokenize(sentence["query"]) for sentence in sentences]
    if not queries or len(queries) > MAX_SENTENCES or not all(queries):
        raise ValueError(f"send 1 to {MAX_SENTENCES} sentences, none of them empty")
    return queries


def lambda_handler(event, context):
    try:
        queries = read_queries(event)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return respond(400, {"error": 'send {"sentences": [{"query": "your review"}, ...]}', "detail": str(exc)})
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps({"instances": queries}, ensure_ascii=False).encode("utf-8"),
    )
    return respond(200, answer["Body"].read().decode("utf-8"))
