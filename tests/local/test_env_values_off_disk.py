"""Values from ${env:...} are served by the local cloud but never written down.

A real run, a real daemon: after the run, after the daemon is killed and started again
without them, and after destroy, no file under the state folder (records, logs, the local
S3, the state database), no process's command line and no cache of built Lambda layers
holds the value. The restarted daemon serves what needs no such value, answers 503 where
one is missing, `status` and `plan` say so, and the next run puts them back on their ports.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from pathlib import Path

import httpx
import pytest

from orchestrator.cli import main
from orchestrator.targets.local.daemon.client import DaemonClient
from orchestrator.targets.local.daemon.protocol import NEEDS_RUN, invocations_url
from orchestrator.targets.local.lambdas.packaging import cache_root

from .conftest import stop_daemon
from .project_files import write

SECRET = "offdisk-7d41c9e2-not-for-files"
SECRET_SHA = hashlib.sha256(SECRET.encode()).hexdigest()

INFERENCE = """
import hashlib, json, os


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    token = os.environ["API_TOKEN"].encode()
    return json.dumps({"token_sha": hashlib.sha256(token).hexdigest()}), "application/json"
"""

HANDLER = """
import hashlib, json, os


def show(event, context):
    token = os.environ["API_TOKEN"].encode()
    body = json.dumps({"token_sha": hashlib.sha256(token).hexdigest()})
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
"""

SPEC = """\
name: offdisk
steps:
  deploy:
    type: endpoint
    model: model.tar.gz
    inference: code/inference.py
    instance: {type: ml.t2.medium}
    environment: {API_TOKEN: "${env:OFFDISK_TOKEN}", MODE: plain}
  api:
    type: api
    routes:
      - method: GET
        path: /token
        integration: lambda
        handler: api/show.py:show
        endpoint: ${steps.deploy.outputs.endpoint_name}
        environment: {API_TOKEN: "Bearer ${env:OFFDISK_TOKEN}"}
  site:
    type: website
    source: web
"""


@pytest.fixture
def project(files, tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(files["transform_model"], root / "model.tar.gz")
    write(root / "code" / "inference.py", INFERENCE)
    write(root / "api" / "show.py", HANDLER)
    shutil.copytree(files["site"], root / "web", symlinks=True)
    (root / "pipeline.yaml").write_text(SPEC)
    client = DaemonClient(root / ".orchestrator" / "local")
    yield root, client
    stop_daemon(client)


def outputs(capsys, spec: Path) -> dict:
    capsys.readouterr()
    assert main(["status", str(spec), "--json"]) == 0
    return {name: step["outputs"] for name, step in json.loads(capsys.readouterr().out)["steps"].items()}


def written_anywhere(root: Path) -> list[str]:
    """Every file under the state folder and the Lambda layer cache, and every process's command
    line, that holds the value (as it is, or as the route's environment composed it)."""
    found = []
    for folder in (root / ".orchestrator", cache_root()):
        for file in folder.rglob("*") if folder.is_dir() else ():
            if file.is_file() and not file.is_symlink() and SECRET.encode() in file.read_bytes():
                found.append(str(file))
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if SECRET.encode() in cmdline.read_bytes():
                found.append(str(cmdline))
        except OSError:
            continue  # the process ended while we looked
    return found


def token_shas(out: dict) -> tuple:
    with httpx.Client(timeout=30) as http:
        endpoint = http.post(out["deploy"]["url"], json={"x": 1})
        route = http.get(out["api"]["url"] + "/token")
    return endpoint.status_code, endpoint.json(), route.status_code, route.json()


def test_env_values_are_served_from_memory_and_a_restart_without_them_asks_for_a_run(project, capsys, monkeypatch):
    root, client = project
    spec = root / "pipeline.yaml"
    monkeypatch.setenv("OFFDISK_TOKEN", SECRET)
    assert main(["run", str(spec)]) == 0
    out = outputs(capsys, spec)
    bearer = hashlib.sha256(f"Bearer {SECRET}".encode()).hexdigest()
    assert token_shas(out) == (200, {"token_sha": SECRET_SHA}, 200, {"token_sha": bearer})
    assert written_anywhere(root) == []
    record = json.loads(client.home.state_file.read_text())
    endpoint = record["endpoints"]["offdisk-deploy"]
    assert endpoint["secrets"] == [["environment", "API_TOKEN"]]
    assert endpoint["spec"]["environment"] == {"API_TOKEN": None, "MODE": "plain"}
    assert record["apis"]["offdisk-api"]["secrets"] == [["functions", 0, "environment", "API_TOKEN"]]
    assert record["websites"]["offdisk-site"]["secrets"] == []

    # A crash, then a daemon started by something other than a run (here: the client, as a training job's hold would).
    old_pid = client.info()["pid"]
    os.kill(old_pid, signal.SIGKILL)
    assert client.wait_stopped(old_pid, 5)
    client.ensure_running()
    message = {"message": f"endpoint offdisk-deploy {NEEDS_RUN}"}
    with httpx.Client(timeout=30) as http:
        answer = http.post(out["deploy"]["url"], json={"x": 1})
        assert (answer.status_code, answer.json()) == (503, message)
        control = client.info()["port"]  # where a Lambda's boto3 reaches an endpoint the daemon does not serve
        answer = http.post(invocations_url(control, "offdisk-deploy"), json={"x": 1})
        assert (answer.status_code, answer.json()) == (503, message)
        answer = http.get(out["api"]["url"] + "/token")
        assert (answer.status_code, answer.json()) == (503, {"message": f"API offdisk-api {NEEDS_RUN}"})
        assert http.get(out["site"]["url"]).status_code == 200  # what needs no such value is restored
    services = client.status()["services"]
    assert services["endpoints"]["offdisk-deploy"] == {
        "port": client_port(out["deploy"]["url"]),
        "serving": False,
        "error": NEEDS_RUN,
    }
    assert written_anywhere(root) == []

    capsys.readouterr()
    assert main(["status", str(spec)]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [shown[i + 1] for i, line in enumerate(shown) if line.split()[:1] in (["deploy"], ["api"])] == [
        f"    {NEEDS_RUN}"
    ] * 2
    assert main(["plan", str(spec)]) == 0
    plan = capsys.readouterr().out
    assert f"note: deploy: {NEEDS_RUN}" in plan
    assert f"note: api: {NEEDS_RUN}" in plan
    assert "note: site:" not in plan
    actions = {
        line.split()[1]: line.split()[2] for line in plan.splitlines() if line.startswith("  ") and "note:" not in line
    }
    assert actions == {"deploy": "run", "api": "run", "site": "skip"}  # only what needs the values again

    assert main(["run", str(spec)]) == 0
    said = capsys.readouterr().err  # the run's plan carries the notes too
    assert f"note: deploy: {NEEDS_RUN}" in said and f"note: api: {NEEDS_RUN}" in said
    assert outputs(capsys, spec) == out  # the same ports and URLs
    assert token_shas(out) == (200, {"token_sha": SECRET_SHA}, 200, {"token_sha": bearer})
    assert client.status()["services"]["endpoints"]["offdisk-deploy"]["error"] is None
    assert written_anywhere(root) == []

    pid = client.info()["pid"]
    assert main(["destroy", str(spec), "--yes"]) == 0
    assert client.wait_stopped(pid, 15)
    assert written_anywhere(root) == []


def client_port(url: str) -> int:
    return httpx.URL(url).port
