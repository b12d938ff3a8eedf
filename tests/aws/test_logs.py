"""`logs` on the aws target: CloudWatch Logs read with FilterLogEvents from moto's real server.

Events are put where SageMaker, Lambda and API Gateway put them; the command reads each
step's groups by the names AWS gives them, every page, and a second poll (`--follow`)
returns only what came after the first.
"""

from __future__ import annotations

import json
import time

import pytest

from orchestrator.cli import main
from orchestrator.targets.aws.client import AwsClient
from orchestrator.targets.aws.logs import CloudWatchFeed, Source
from orchestrator.targets.aws.web.program.naming import logical_name
from tests.functional.invoke_support import record_deployed

from .aws_support import BUCKET, REGION

SPEC = f"""\
version: 1
name: movie-reviews
target: aws
region: {REGION}
aws: {{role_arn: "arn:aws:iam::123456789012:role/orchestrator-sagemaker", bucket: {BUCKET}}}
steps:
  train:
    type: training
    framework: sklearn
    entry_point: train.py
  prep:
    type: processing
    framework: sklearn
    entry_point: train.py
    outputs: [rows]
  deploy:
    type: endpoint
    model: s3://{BUCKET}/models/model.tar.gz
    instance: {{type: ml.t2.medium}}
  api:
    type: api
    routes:
      - {{method: POST, path: /predict, integration: lambda, handler: handler.py:main, endpoint: movie-reviews-deploy}}
      - {{method: POST, path: /invocations, integration: direct, endpoint: movie-reviews-deploy}}
"""
JOB = "movie-reviews-train-0123456789ab"
PREP_JOB = "movie-reviews-prep-0123456789ab"
REQUEST_ID = "8f5a9c3e-2b1d-4e6f-9a7b-1c2d3e4f5a6b"


@pytest.fixture
def logs_client(aws_env):
    import boto3

    return boto3.Session(region_name=REGION).client("logs")


def put(client, group: str, stream: str, messages: list[str], at_ms: int | None = None) -> None:
    try:
        client.create_log_group(logGroupName=group)
    except client.exceptions.ResourceAlreadyExistsException:
        pass
    client.create_log_stream(logGroupName=group, logStreamName=stream)
    base = at_ms or int(time.time() * 1000) - 60_000
    events = [{"timestamp": base + i, "message": m} for i, m in enumerate(messages)]
    client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(SPEC)
    (tmp_path / "train.py").write_text("print('accuracy=0.9')\n")
    (tmp_path / "handler.py").write_text("def main(event, context):\n    return {}\n")
    record_deployed(path, "train", {"model": f"s3://{BUCKET}/m.tar.gz", "job_name": JOB}, "aws")
    record_deployed(path, "prep", {"job_name": PREP_JOB, "rows": f"s3://{BUCKET}/rows/"}, "aws")
    record_deployed(path, "deploy", {"endpoint_name": "movie-reviews-deploy", "url": "https://x"}, "aws")
    record_deployed(
        path, "api", {"url": "https://abc.execute-api.us-east-1.amazonaws.com/prod", "api_id": "abc"}, "aws"
    )
    return path


def events_of(capsys, spec, *argv) -> tuple[int, list[dict]]:
    capsys.readouterr()
    code = main(["logs", str(spec), *argv, "--json"])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_a_training_jobs_streams_only(spec, logs_client, capsys):
    put(logs_client, "/aws/sagemaker/TrainingJobs", f"{JOB}/algo-1-1700000000", ["epoch 1", "accuracy=0.91"])
    put(logs_client, "/aws/sagemaker/TrainingJobs", "another-job/algo-1-1700000000", ["not this one"])
    code, events = events_of(capsys, spec, "train")
    assert code == 0
    assert [e["message"] for e in events] == ["epoch 1", "accuracy=0.91"]
    assert {e["source"] for e in events} == {"training"}
    assert {e["stream"] for e in events} == {f"{JOB}/algo-1-1700000000"}


def test_a_processing_jobs_streams_only(spec, logs_client, capsys):
    group = "/aws/sagemaker/ProcessingJobs"
    put(logs_client, group, f"{PREP_JOB}/algo-1-1700000000", ["split 120 rows"])
    put(logs_client, group, "another-job/algo-1-1700000000", ["not this one"])
    code, events = events_of(capsys, spec, "prep")
    assert code == 0
    assert [e["message"] for e in events] == ["split 120 rows"]
    assert {e["source"] for e in events} == {"processing"}


def test_an_endpoints_group_and_since(spec, logs_client, capsys):
    group = "/aws/sagemaker/Endpoints/movie-reviews-deploy"
    old = int(time.time() * 1000) - 3 * 3600 * 1000
    put(logs_client, group, "AllTraffic/i-0abc", ["old line"], at_ms=old)
    put(logs_client, group, "AllTraffic/i-0def", ["new line"])
    code, events = events_of(capsys, spec, "deploy", "--since", "1h")
    assert (code, [e["message"] for e in events]) == (0, ["new line"])
    code, events = events_of(capsys, spec, "deploy")
    assert [e["message"] for e in events] == ["old line", "new line"]


def test_a_lambda_routes_log_with_request_ids_and_the_access_log(spec, logs_client, capsys):
    function = logical_name("movie-reviews", "prod", "POST /predict")
    put(
        logs_client,
        f"/aws/lambda/{function}",
        "2026/12/01/[$LATEST]abc",
        [
            f"START RequestId: {REQUEST_ID} Version: $LATEST",
            "printed",
            f"REPORT RequestId: {REQUEST_ID}\tDuration: 3 ms",
        ],
    )
    put(logs_client, "/aws/apigateway/movie-reviews-prod/access", "abc_prod", [f"{REQUEST_ID} POST /predict 200 12"])
    code, events = events_of(capsys, spec, "api")
    assert code == 0
    sources = [e["source"] for e in events]
    assert (sources.count("lambda POST /predict"), sources.count("access")) == (3, 1)
    access = next(e for e in events if e["source"] == "access")
    assert access["message"] == f"{REQUEST_ID} POST /predict 200 12"
    starts = [e for e in events if e["message"].startswith("START")]
    assert starts[0]["request_id"] == REQUEST_ID
    code, events = events_of(capsys, spec, "api", "--route", "post /predict")
    assert {e["source"] for e in events} == {"lambda POST /predict"} and len(events) == 3


def test_a_step_with_no_log_group_yet_says_so(spec, aws_env, capsys):
    capsys.readouterr()
    assert main(["logs", str(spec), "deploy"]) == 2
    err = capsys.readouterr().err
    assert "CloudWatch Logs has no log group /aws/sagemaker/Endpoints/movie-reviews-deploy in us-east-1" in err


def test_every_page_is_read_and_a_second_poll_returns_only_new_events(logs_client):
    group = "/aws/sagemaker/Endpoints/paged"
    put(logs_client, group, "AllTraffic/i-1", [f"line {i}" for i in range(7)])
    client = AwsClient(REGION)
    feed = CloudWatchFeed(client, [Source(group, "endpoint")], page_size=2)
    assert [e["message"] for e in feed.poll()] == [f"line {i}" for i in range(7)]
    assert client.calls[("FilterLogEvents", "write")] >= 4  # 7 events, 2 a page
    assert feed.poll() == []
    logs_client.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-2")
    logs_client.put_log_events(
        logGroupName=group,
        logStreamName="AllTraffic/i-2",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "after"}],
    )
    assert [e["message"] for e in feed.poll()] == ["after"]
