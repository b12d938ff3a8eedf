"""`invoke` on the local target: a real run of a small pipeline, then its endpoint and routes called.

The endpoint is reached through the local runtime API (InvokeEndpoint's path), the
routes through the API's recorded stage URL; `destroy` afterwards leaves nothing running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from orchestrator.cli import main
from tests.local.project_files import threshold_model, write

from .invoke_support import closed_port, invoke, record_deployed

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

HANDLERS = """
import json
import os

import boto3


def predict(event, context):
    answer = boto3.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"], ContentType="application/json", Body=event["body"] or "")
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": answer["Body"].read().decode()}


def hello(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json", "X-Route": event["resource"]},
            "body": json.dumps({"path": event["path"], "name": event["pathParameters"]["name"],
                                "method": event["httpMethod"], "query": event["queryStringParameters"]})}


def refuse(event, context):
    return {"statusCode": 422, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"message": "instances must not be empty"})}
"""

SPEC = """\
version: 1
name: invoking
steps:
  deploy:
    type: endpoint
    model: model-v1.tar.gz
    instance: {type: ml.t2.medium}
  api:
    type: api
    routes:
      - {method: POST, path: /predict, integration: lambda, handler: api/handlers.py:predict,
         endpoint: "${steps.deploy.outputs.endpoint_name}"}
      - {method: POST, path: /invocations, integration: direct, endpoint: "${steps.deploy.outputs.endpoint_name}"}
      - {method: GET, path: "/hello/{name}", integration: lambda, handler: api/handlers.py:hello,
         endpoint: "${steps.deploy.outputs.endpoint_name}"}
      - {method: POST, path: /refuse, integration: lambda, handler: api/handlers.py:refuse,
         endpoint: "${steps.deploy.outputs.endpoint_name}"}
"""


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """The small pipeline, run for real on the local target; destroyed afterwards whatever happened."""
    root = tmp_path_factory.mktemp("invoking")
    threshold_model(root, "model-v1", (0, 1))
    write(root / "api" / "handlers.py", HANDLERS)
    spec = root / "pipeline.yaml"
    spec.write_text(SPEC)
    try:
        assert main(["run", "--quiet", str(spec)]) == 0
        yield spec
    finally:
        main(["destroy", str(spec), "--yes"])


def test_an_endpoint_is_called_through_the_runtime_api(deployed, capsys):
    code, out, err = invoke(capsys, deployed, "deploy", "--body", '{"instances": [[0.5], [2.5]]}', "-v")
    assert code == 0
    assert json.loads(out) == {"predictions": [0, 1]}
    lines = err.splitlines()
    assert lines[0].startswith("> POST http://127.0.0.1:") and lines[0].endswith(
        "/endpoints/invoking-deploy/invocations"
    )
    assert lines[1] == "HTTP 200 OK"
    assert any(line.lower().startswith("x-amzn-invoked-production-variant: ") for line in lines)


def test_a_body_from_a_file_and_from_stdin(deployed, capsys, tmp_path, monkeypatch):
    payload = tmp_path / "payload.json"
    payload.write_text('{"instances": [[3.0]]}')
    code, out, _ = invoke(capsys, deployed, "deploy", "--body", f"@{payload}", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["status"] == 200 and json.loads(answer["body"]) == {"predictions": [1]}
    assert {k.lower() for k in answer["headers"]} >= {"content-type", "x-amzn-invoked-production-variant"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "invoke",
            str(deployed),
            "api",
            "--route",
            "POST /predict",
            "--body",
            "-",
        ],
        input='{"instances": [[0.0]]}',
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert (proc.returncode, json.loads(proc.stdout), proc.stderr) == (0, {"predictions": [0]}, "HTTP 200 OK\n")


def test_a_lambda_route_and_a_direct_route(deployed, capsys):
    code, out, err = invoke(capsys, deployed, "api", "--route", "POST /predict", "--body", '{"instances": [[2.0]]}')
    assert (code, json.loads(out), err) == (0, {"predictions": [1]}, "HTTP 200 OK\n")
    code, out, err = invoke(capsys, deployed, "api", "--route", "POST /invocations", "--body", '{"instances": [[0]]}')
    assert (code, json.loads(out), err) == (0, {"predictions": [0]}, "HTTP 200 OK\n")


def test_a_concrete_path_is_matched_against_the_route_templates_and_sent_as_given(deployed, capsys):
    code, out, err = invoke(capsys, deployed, "api", "--route", "get /hello/big%20world?lang=en", "-v")
    assert code == 0
    answer = json.loads(out)
    assert (answer["method"], answer["query"], unquote(answer["name"])) == ("GET", {"lang": "en"}, "big world")
    assert "/prod/hello/big%20world?lang=en\n" in err and "X-Route: /hello/{name}\n" in err


def test_a_4xx_answer_is_shown_and_exits_1(deployed, capsys):
    code, out, err = invoke(capsys, deployed, "api", "--route", "POST /refuse", "--body", "{}")
    assert (code, json.loads(out), err) == (
        1,
        {"message": "instances must not be empty"},
        "HTTP 422 Unprocessable Entity\n",
    )
    code, out, err = invoke(capsys, deployed, "deploy", "--body", '{"rows": 1}')  # the model refuses it
    assert code == 1 and err == "HTTP 424 Failed Dependency\n"
    assert json.loads(out)["OriginalStatusCode"] == 400


def test_the_local_target_never_imports_boto3(deployed):
    program = (
        "import sys; from orchestrator.cli import main; "
        "code = main(['invoke', sys.argv[1], 'deploy', '--body', '{\"instances\": [[1]]}']); "
        "print('boto3' in sys.modules, 'botocore' in sys.modules, code)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", program, str(deployed)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.stdout.splitlines()[-1] == "False False 0", proc.stderr


@pytest.mark.parametrize(
    ("argv", "message", "hint"),
    [
        (["deploi"], "error: no step named 'deploi' in {spec}", "hint: did you mean 'deploy'?"),
        (["api"], "error: api step 'api' has 4 routes: pick one with --route 'METHOD /path'", None),
        (
            ["api", "--route", "DELETE /predict"],
            "error: --route 'DELETE /predict' matches no route of api step 'api'",
            "hint: routes: POST /predict, POST /invocations, GET /hello/{name}, POST /refuse",
        ),
        (["api", "--route", "/predict"], "error: --route '/predict' is not METHOD /path", None),
        (["deploy", "--route", "POST /x"], "error: --route is for api steps; 'deploy' is an endpoint step", None),
        (
            ["deploy", "--body", "@no-such-payload.json"],
            "error: --body @no-such-payload.json: cannot read no-such-payload.json: No such file or directory",
            "hint: --body @FILE sends the file's bytes; give a readable file, or the body itself",
        ),
        (
            ["deploy", "--target", "aws"],
            "error: step 'deploy' is deployed on target local, not aws",
            "hint: drop --target, or use --target local",
        ),
    ],
)
def test_bad_input_exits_2_and_says_what_to_do(deployed, capsys, argv, message, hint):
    code, out, err = invoke(capsys, deployed, *argv)
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == message.format(spec=deployed)
    if hint:
        assert err.splitlines()[1] == "  " + hint


def test_a_body_over_the_runtime_limit_is_refused_before_sending(deployed, capsys, tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"0," * (3 * 1024 * 1024) + b"0]")  # just over 6 MiB
    code, out, err = invoke(capsys, deployed, "deploy", "--body", f"@{big}")
    assert (code, out) == (2, "")
    assert err.startswith("error: --body is over InvokeEndpoint's payload limit (6 MB): nothing was sent\n")
    code, out, err = invoke(capsys, deployed, "api", "--route", "POST /invocations", "--body", f"@{big}")
    assert code == 1 and err.startswith("HTTP 4")  # under API Gateway's 10 MB: sent, and the API answered


def test_a_huge_answer_is_cut_at_a_terminal_but_not_in_json(deployed, capsys):
    rows = json.dumps({"instances": [[2.0]] * 40_000})
    code, out, err = invoke(capsys, deployed, "deploy", "--body", rows)
    assert code == 0 and len(out) == 64 * 1024 + 1
    assert err.startswith("HTTP 200 OK\n... ") and err.endswith(
        " more bytes not shown; all of it with -o FILE or --json\n"
    )
    code, out, _ = invoke(capsys, deployed, "deploy", "--body", rows, "--json")
    assert json.loads(json.loads(out)["body"]) == {"predictions": [1] * 40_000}


def test_output_file_gets_the_body_and_the_terminal_only_the_status(deployed, capsys, tmp_path):
    saved = tmp_path / "answer.json"
    code, out, err = invoke(capsys, deployed, "deploy", "--body", '{"instances": [[2.0]]}', "-o", str(saved))
    assert (code, out) == (0, "")
    assert err == f"HTTP 200 OK\nwrote {saved.stat().st_size} bytes to {saved}\n"
    assert json.loads(saved.read_text()) == {"predictions": [1]}


def test_nothing_deployed_yet_and_a_training_step_exit_2(tmp_path, capsys):
    threshold_model(tmp_path, "model-v1", (0, 1))
    write(tmp_path / "api" / "handlers.py", HANDLERS)
    (tmp_path / "train.py").write_text("print('accuracy=0.9')\n")
    (tmp_path / "data.csv").write_text("1,2\n")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        SPEC + "  train:\n    type: training\n    framework: sklearn\n    entry_point: train.py\n"
        "    inputs: {train: data.csv}\n"
    )
    code, _, err = invoke(capsys, spec, "deploy")
    assert (code, err) == (
        2,
        f"error: step 'deploy' has nothing deployed yet\n  hint: deploy it first: python -m orchestrator run {spec}\n",
    )
    code, _, err = invoke(capsys, spec, "train")
    assert (code, err) == (
        2,
        "error: step 'train' is a training step; invoke calls endpoint and api steps\n"
        "  hint: steps to invoke: deploy, api\n",
    )


def test_a_local_cloud_that_is_not_running_says_so(tmp_path, capsys):
    threshold_model(tmp_path, "model-v1", (0, 1))
    write(tmp_path / "api" / "handlers.py", HANDLERS)
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    url = f"http://127.0.0.1:{closed_port()}/endpoints/invoking-deploy/invocations"
    record_deployed(spec, "deploy", {"endpoint_name": "invoking-deploy", "url": url}, "local")
    code, out, err = invoke(capsys, spec, "deploy", "--body", "{}")
    assert (code, out) == (1, "")
    assert err == (
        f"error: the local cloud is not running: nothing answered at {url} (connection refused)\n"
        f"  hint: start it again with python -m orchestrator run {spec} (it brings back what is recorded)\n"
    )
