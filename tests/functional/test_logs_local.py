"""`logs` on the local target: a real run (processing, training, endpoint, api), real requests, then each step's log.

The training job's lines, the endpoint container's prints, a lambda route's prints and
errors tied to their request id, the gateway's access log; `--since`, `--json`, `--route`;
`--follow` in a real process, stopped with Ctrl-C (SIGINT) and exiting 0. A value from
`${env:...}` printed by user code reaches no log file under the state folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.local.project_files import write

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tok-7c1e5a-never-logged"
pytestmark = pytest.mark.slow

TRAIN = """
import os, pathlib, sys
import joblib
from sklearn.tree import DecisionTreeClassifier
print("starting the training job")
print("token is", os.environ["API_TOKEN"])
print("a warning on stderr", file=sys.stderr)
model = DecisionTreeClassifier().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
joblib.dump(model, pathlib.Path(os.environ["SM_MODEL_DIR"]) / "model.joblib")
print("accuracy=0.97")
"""

INFERENCE = """
import json, os, sys
import joblib

def model_fn(model_dir):
    print("loading the model; token", os.environ["API_TOKEN"], file=sys.stderr)
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def predict_fn(data, model):
    print("predicting", len(data), "rows", flush=True)
    return model.predict(data).tolist()
"""

PREPARE = """
import os, pathlib
print("preparing with", os.environ["API_TOKEN"])
(pathlib.Path("/opt/ml/processing/output/rows") / "rows.csv").write_text("0,1\\n")
"""

HANDLERS = """
import json, os
import boto3

def predict(event, context):
    print("handling", context.aws_request_id, "with", os.environ["API_TOKEN"])
    answer = boto3.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"], ContentType="application/json", Body=event["body"] or "")
    return {"statusCode": 200, "body": answer["Body"].read().decode()}

def boom(event, context):
    raise RuntimeError("the handler broke")
"""

SPEC = """\
version: 1
name: logged
steps:
  prep:
    type: processing
    framework: sklearn
    entry_point: prepare.py
    outputs: [rows]
    environment: {API_TOKEN: '${env:LOGS_TEST_TOKEN}'}
  train:
    type: training
    framework: sklearn
    entry_point: train.py
    environment: {API_TOKEN: '${env:LOGS_TEST_TOKEN}'}
    metrics: [{name: accuracy, regex: 'accuracy=([0-9.]+)'}]
  deploy:
    type: endpoint
    model: ${steps.train.outputs.model}
    inference: inference.py
    environment: {API_TOKEN: '${env:LOGS_TEST_TOKEN}'}
    instance: {type: ml.t2.medium}
  api:
    type: api
    routes:
      - {method: POST, path: /predict, integration: lambda, handler: api/handlers.py:predict,
         endpoint: "${steps.deploy.outputs.endpoint_name}", environment: {API_TOKEN: '${env:LOGS_TEST_TOKEN}'}}
      - {method: POST, path: /boom, integration: lambda, handler: api/handlers.py:boom,
         endpoint: "${steps.deploy.outputs.endpoint_name}"}
      - {method: POST, path: /invocations, integration: direct, endpoint: "${steps.deploy.outputs.endpoint_name}"}
"""


def _post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    root = tmp_path_factory.mktemp("logged")
    write(root / "prepare.py", PREPARE)
    write(root / "train.py", TRAIN)
    write(root / "inference.py", INFERENCE)
    write(root / "api" / "handlers.py", HANDLERS)
    spec = root / "pipeline.yaml"
    spec.write_text(SPEC)
    saved = os.environ.get("LOGS_TEST_TOKEN")
    os.environ["LOGS_TEST_TOKEN"] = SECRET
    try:
        assert main(["run", "--quiet", str(spec)]) == 0
        yield spec, None
    finally:
        main(["destroy", str(spec), "--yes"])
        if saved is None:
            os.environ.pop("LOGS_TEST_TOKEN", None)
        else:
            os.environ["LOGS_TEST_TOKEN"] = saved


def _cli_out(spec: Path, *argv: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", argv[0], str(spec), *argv[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _url(spec: Path, step: str) -> str:
    return json.loads(_cli_out(spec, "status", "--json"))["steps"][step]["outputs"]["url"]


def _events(spec: Path, *argv: str) -> list[dict]:
    return [json.loads(line) for line in _cli_out(spec, "logs", *argv, "--json").splitlines()]


def _wait_for(spec: Path, argv: tuple[str, ...], found, timeout: float = 20.0) -> list[dict]:
    """The step's events once `found(events)` holds (the endpoint's output reaches its log a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        events = _events(spec, *argv)
        if found(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_the_training_jobs_lines_with_their_times(deployed):
    spec, _ = deployed
    events = _events(spec, "train")
    messages = [e["message"] for e in events]
    assert "starting the training job" in messages and "accuracy=0.97" in messages
    assert {e["source"] for e in events} == {"training"}
    assert [e["stream"] for e in events if e["message"] == "a warning on stderr"] == ["stderr"]
    assert all(abs(e["ts"] - time.time()) < 3600 for e in events)
    text = _cli_out(spec, "logs", "train")
    assert " training starting the training job\n" in text


def test_a_processing_jobs_lines_with_the_secret_masked(deployed):
    spec, _ = deployed
    events = _events(spec, "prep")
    assert [e["message"] for e in events] == ["preparing with ****"]
    assert {e["source"] for e in events} == {"processing"}


def test_an_endpoints_prints_and_a_lambdas_lines_by_request_id(deployed):
    spec, _ = deployed
    status, headers = _post(_url(spec, "api") + "/predict", b'{"instances": [[2.5]]}')
    assert status == 200, (_cli_out(spec, "logs", "api"), _cli_out(spec, "logs", "deploy"))
    request_id = headers["x-amzn-requestid"]
    endpoint = _wait_for(spec, ("deploy",), lambda ev: any("predicting 1 rows" in e["message"] for e in ev))
    assert any(e["message"] == "predicting 1 rows" for e in endpoint)
    assert any(e["message"].startswith("loading the model; token") for e in endpoint)
    own = _wait_for(
        spec, ("api", "--route", "POST /predict"), lambda ev: any(e["message"].startswith("REPORT") for e in ev)
    )
    mine = [e for e in own if e.get("request_id") == request_id]
    assert [e["message"].split()[0] for e in mine] == ["START", "handling", "END", "REPORT"]
    assert mine[1]["message"] == f"handling {request_id} with ****"
    assert {e["source"] for e in own} == {"lambda POST /predict"}


def test_a_lambdas_error_is_in_its_log_with_the_request_id(deployed):
    spec, _ = deployed
    status, headers = _post(_url(spec, "api") + "/boom", b"{}")
    assert status == 502
    request_id = headers["x-amzn-requestid"]
    events = _wait_for(spec, ("api", "--route", "post /boom"), lambda ev: any("[ERROR]" in e["message"] for e in ev))
    errors = [e for e in events if e["message"] == "[ERROR] RuntimeError: the handler broke"]
    assert [e["request_id"] for e in errors] == [request_id]
    assert any(e["message"].startswith("Traceback") and e["request_id"] == request_id for e in events)


def test_the_access_log_has_method_path_status_latency_and_request_id(deployed):
    spec, _ = deployed
    status, headers = _post(_url(spec, "api") + "/invocations", b'{"instances": [[0.5]]}')
    assert status == 200
    _post(_url(spec, "api") + "/nowhere", b"{}")
    events = [e for e in _events(spec, "api") if e["source"] == "access"]
    mine = [e for e in events if e.get("request_id") == headers["x-amzn-requestid"]]
    assert len(mine) == 1
    entry = mine[0]
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/prod/invocations", 200)
    assert entry["latency_ms"] >= 0 and entry["message"].startswith("POST /prod/invocations 200 ")
    assert any(e["path"] == "/prod/nowhere" and e["status"] == 403 for e in events)


def test_since_leaves_out_what_came_before(deployed):
    spec, _ = deployed
    assert _events(spec, "train", "--since", "1h")
    assert _events(spec, "train", "--since", "2099-01-01T00:00:00") == []


def test_follow_prints_new_events_until_ctrl_c_and_exits_0(deployed):
    spec, _ = deployed
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "logs", str(spec), "api", "--follow", "--since", "1s", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        time.sleep(3)  # it has started and printed what there was
        status, headers = _post(_url(spec, "api") + "/invocations", b'{"instances": [[3.0]]}')
        assert status == 200
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
            if any(e.get("request_id") == headers["x-amzn-requestid"] for e in seen):
                break
        assert any(e.get("request_id") == headers["x-amzn-requestid"] for e in seen), seen
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert "Traceback" not in err


def test_no_log_file_holds_a_value_from_the_environment(deployed):
    spec, _ = deployed
    _post(_url(spec, "api") + "/predict", b'{"instances": [[1.0]]}')
    _wait_for(spec, ("deploy",), lambda ev: len([e for e in ev if "predicting" in e["message"]]) >= 2)
    logs = list((spec.parent / ".orchestrator" / "local" / "logs").rglob("*.log*"))
    assert {p.parent.name for p in logs} >= {"training", "endpoints", "lambdas", "access"}
    for file in [*logs, *(spec.parent / ".orchestrator").rglob("*.log")]:
        assert SECRET.encode() not in file.read_bytes(), file
    assert any(b"token is ****" in p.read_bytes() for p in logs if p.parent.name == "training")


def test_a_step_without_a_log_and_an_unknown_route_are_usage_errors(deployed, capsys):
    spec, _ = deployed
    capsys.readouterr()
    assert main(["logs", str(spec), "api", "--route", "GET /nope"]) == 2
    err = capsys.readouterr().err
    assert "--route GET /nope: no lambda route of step 'api' is GET /nope" in err
    assert "lambda routes: POST /predict, POST /boom" in err
    assert main(["logs", str(spec), "depoly"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["logs", str(spec), "deploy", "--route", "POST /predict"]) == 2
    assert main(["logs", str(spec), "train", "--since", "yesterday"]) == 2
    assert "give e.g. --since 10m" in capsys.readouterr().err


def test_status_shows_a_live_endpoints_workers_requests_and_latency(deployed):
    spec, _ = deployed
    before = json.loads(_cli_out(spec, "status", "--json"))["steps"]["deploy"]["live"]
    for _ in range(5):
        assert _post(_url(spec, "deploy"), b'{"instances": [[0.5]]}')[0] == 200
    deadline = time.monotonic() + 10
    while True:  # workers write their counts every half second
        live = json.loads(_cli_out(spec, "status", "--json"))["steps"]["deploy"]["live"]
        if live["requests"] >= before["requests"] + 5 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert live["requests"] == before["requests"] + 5
    assert live["workers"] == (os.cpu_count() or 1) and live["version"] == 1
    assert 0 < live["p50_ms"] <= live["p99_ms"] < 60_000
    assert live["since"] <= time.time()
    text = _cli_out(spec, "status")
    assert f"    live: workers {live['workers']}, {live['requests']} requests, " in text
    assert "p50 " in text and " ms, p99 " in text
