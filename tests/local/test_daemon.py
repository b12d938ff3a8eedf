"""The daemon's lifecycle: detached start, token, durable state, restart, exit when empty."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import httpx
import pytest

from orchestrator.targets.local.daemon.client import DaemonError, Removal, pid_alive
from orchestrator.targets.local.daemon.protocol import EndpointRequest

from .conftest import api_spec, api_step, lambda_route, site_spec, stop_daemon


def deploy_all(client, files) -> dict:
    """Every kind of service; the model needs no scikit-learn, so these daemons start fast."""
    endpoint = client.put(
        "ep-main", EndpointRequest(files["transform_model"].as_uri(), str(files["transform_inference"]), {})
    )
    api = client.put(
        "api",
        api_spec(
            api_step(
                [
                    lambda_route("POST", "/predict", "predict"),
                    {"method": "POST", "path": "/direct", "integration": "direct", "endpoint": "ep-main"},
                ]
            ),
            files["root"],
        ),
    )
    site = client.put("site", site_spec(files["site"]))
    return {"endpoint": endpoint.port, "api": api.port, "site": site.port}


def answers(ports: dict) -> tuple:
    with httpx.Client(timeout=30) as http:
        body = {"x": 2}
        return (
            http.post(f"http://127.0.0.1:{ports['endpoint']}/invocations", json=body).json(),
            http.post(f"http://127.0.0.1:{ports['api']}/prod/predict", json=body).json(),
            http.post(f"http://127.0.0.1:{ports['api']}/prod/direct", json=body).json(),
            http.get(f"http://127.0.0.1:{ports['site']}/docs/").status_code,
        )


EXPECTED = ({"y": 6, "accept": "application/json"},) * 3 + (200,)


def test_token_file_is_private_and_required(cloud):
    client = cloud["client"]
    mode = stat.S_IMODE(os.stat(client.home.token_file).st_mode)
    assert mode == 0o600
    port = client.info()["port"]
    answer = httpx.get(f"http://127.0.0.1:{port}/status", headers={"Authorization": "Bearer wrong"})
    assert (answer.status_code, answer.json()) == (401, {"error": "missing or wrong control token"})


def test_daemon_outlives_its_starter_and_restores_every_service_after_a_crash(daemons, files):
    client = daemons.new("restart")
    ports = deploy_all(client, files)
    assert answers(ports) == EXPECTED
    record = json.loads(client.home.state_file.read_text())
    assert {k: sorted(record[k]) for k in ("endpoints", "apis", "websites")} == {
        "endpoints": ["ep-main"],
        "apis": ["api"],
        "websites": ["site"],
    }
    old_pid = client.info()["pid"]
    os.kill(old_pid, signal.SIGKILL)
    assert client.wait_stopped(old_pid, 5)
    assert client.status() is None
    info = client.ensure_running()
    assert info["pid"] != old_pid
    status = client.status()["services"]
    assert {kind: {name: s["port"] for name, s in services.items()} for kind, services in status.items()} == {
        "endpoints": {"ep-main": ports["endpoint"]},
        "apis": {"api": ports["api"]},
        "websites": {"site": ports["site"]},
    }
    assert answers(ports) == EXPECTED


def test_removing_the_last_service_stops_the_daemon_and_its_workers(daemons, files):
    client = daemons.new("destroy")
    ports = deploy_all(client, files)
    answers(ports)  # starts the Lambda worker
    pid = client.info()["pid"]
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    assert children, "a Lambda worker should be running"
    assert client.delete("apis", "api") is Removal.REMOVED
    assert client.delete("websites", "site") is Removal.REMOVED
    assert pid_alive(pid)
    assert client.delete("endpoints", "ep-main") is Removal.REMOVED
    assert not pid_alive(pid)
    assert [c for c in children if pid_alive(c)] == []
    assert client.info() is None
    assert not client.home.daemon_file.exists()
    assert client.delete("endpoints", "ep-main") is Removal.ABSENT
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{ports['endpoint']}/ping")


def test_a_daemon_that_cannot_start_says_why_with_its_log(daemons, files):
    client = daemons.new("broken")
    client.home.ensure()
    client.home.state_file.mkdir()  # unreadable state: the daemon must fail loudly, not half-start
    with pytest.raises(DaemonError) as caught:
        client.ensure_running()
    message = str(caught.value)
    assert message.startswith("the local cloud daemon exited with code 1 while starting.\n")
    assert f"last lines of {client.home.log_file}:" in message
    assert "IsADirectoryError" in message


def test_a_service_that_cannot_be_restored_is_reported_and_the_rest_still_run(daemons, files, tmp_path):
    client = daemons.new("partial")
    model = tmp_path / "model.tar.gz"
    model.write_bytes(files["transform_model"].read_bytes())
    client.put("ep-gone", EndpointRequest(model.as_uri(), str(files["transform_inference"]), {}))
    site = client.put("site", site_spec(files["site"]))
    stop_daemon(client)
    model.unlink()
    client.ensure_running()
    services = client.status()["services"]
    assert services["endpoints"]["ep-gone"]["error"] == f"ModelLoadError: model artifact not found: {model}"
    assert services["endpoints"]["ep-gone"]["serving"] is False
    assert services["websites"]["site"] == {"port": site.port, "serving": True, "error": None}


def test_control_errors_are_reported_with_their_reason(cloud, files, tmp_path):
    import socket

    client = cloud["client"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(DaemonError) as caught:
            client.put("taken", site_spec(files["site"]), port=port)
    assert str(caught.value) == f"port {port} on 127.0.0.1 is already in use"
    with pytest.raises(DaemonError) as caught:
        client.put("nowhere", site_spec(tmp_path / "nowhere"))
    assert str(caught.value) == f"website source folder not found: {tmp_path / 'nowhere'}"
    info = client.info()
    with pytest.raises(DaemonError) as caught:
        client._call(info, "POST", "/reboot")
    assert str(caught.value) == "no control operation POST /reboot"
