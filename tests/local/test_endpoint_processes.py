"""An endpoint is its own process group, like a container: its own environment, N workers, crashes
that stay inside it, and SageMaker's payload limits."""

from __future__ import annotations

import json
import os
import signal
import socket
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from orchestrator.targets.local.daemon.protocol import EndpointRequest

INSPECTING = """
import ctypes
import json
import os


def model_fn(model_dir):
    return {"loaded_by": os.getpid()}


def transform_fn(model, body, content_type, accept):
    request = json.loads(body or b"{}")
    if request.get("crash"):
        ctypes.string_at(0)  # a native crash: the whole process dies, as a segfault in a library would
    names = ("ONLY_MINE", "SAGEMAKER_MODEL_SERVER_WORKERS", "AWS_ENDPOINT_URL_S3", "PYTEST_CURRENT_TEST")
    seen = {name: os.environ.get(name) for name in names}
    return json.dumps({"pid": os.getpid(), "pgid": os.getpgrp(), "env": seen}), "application/json"
"""

MB = 1024 * 1024


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    members.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(members)


@pytest.fixture(scope="module")
def inspecting(cloud, files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("inspecting")
    (folder / "inference.py").write_text(textwrap.dedent(INSPECTING))
    client = cloud["client"]
    answer = client.put(
        "ep-inspect",
        EndpointRequest(
            files["transform_model"].as_uri(),
            str(folder / "inference.py"),
            {"ONLY_MINE": "yes", "SAGEMAKER_MODEL_SERVER_WORKERS": "3"},
        ),
    )
    yield f"http://127.0.0.1:{answer.port}"
    client.delete("endpoints", "ep-inspect")


def ask(url: str, body: dict | None = None) -> dict:
    with httpx.Client(timeout=30) as http:  # a fresh connection each time: the kernel picks a worker
        return http.post(f"{url}/invocations", json=body or {}).json()


def pgid_of(cloud, name: str) -> int:
    return json.loads(cloud["client"].home.groups_file.read_text())[name]


def test_an_endpoint_runs_its_workers_in_a_process_group_with_its_own_environment(cloud, inspecting):
    answer = ask(inspecting)
    assert answer["env"] == {
        "ONLY_MINE": "yes",
        "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
        "AWS_ENDPOINT_URL_S3": cloud["client"].s3_url(),
        "PYTEST_CURRENT_TEST": None,  # nothing of the shell that started the daemon
    }
    pgid = pgid_of(cloud, "ep-inspect")
    assert answer["pgid"] == pgid != cloud["client"].info()["pid"]
    assert len(group_members(pgid)) == 4  # the supervisor and SAGEMAKER_MODEL_SERVER_WORKERS workers
    pids = {ask(inspecting)["pid"] for _ in range(30)}
    assert len(pids) >= 2 and pids <= set(group_members(pgid))
    other = httpx.post(f"http://127.0.0.1:{cloud['endpoint_port']}/invocations", json=[[3.0]])
    assert other.json() == {"predictions": [1]}
    assert "ONLY_MINE" not in os.environ  # and never the daemon's either: the worker saw it, nobody else


def test_a_killed_worker_is_restarted_while_the_others_keep_serving(cloud, inspecting):
    pgid = pgid_of(cloud, "ep-inspect")
    before = group_members(pgid)
    victim = ask(inspecting)["pid"]
    os.kill(victim, signal.SIGKILL)
    for _ in range(20):
        assert "pid" in ask(inspecting)  # every request is answered, by the workers left
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (len(group_members(pgid)) < len(before) or victim in group_members(pgid)):
        time.sleep(0.1)
    after = group_members(pgid)
    assert len(after) == len(before) and victim not in after


def test_a_native_crash_stays_inside_its_endpoint(cloud, inspecting):
    daemon = cloud["client"].info()["pid"]
    # the worker dies mid-request, as a container's process would
    with httpx.Client(timeout=30) as http, pytest.raises(httpx.HTTPError):
        http.post(f"{inspecting}/invocations", json={"crash": True})
    assert cloud["client"].info()["pid"] == daemon
    assert httpx.post(f"http://127.0.0.1:{cloud['endpoint_port']}/invocations", json=[[3.0]]).status_code == 200
    assert httpx.post(f"{cloud['api']}/invocations", json={"instances": [[3]]}).status_code == 200
    assert "pid" in ask(inspecting)


@pytest.mark.parametrize("serverless, limit_mb", [(False, 6), (True, 4)])
def test_bodies_over_sagemakers_payload_limit_are_413(cloud, files, serverless, limit_mb):
    client = cloud["client"]
    name = f"ep-limit-{limit_mb}"
    answer = client.put(
        name,
        EndpointRequest(
            files["transform_model"].as_uri(), str(files["transform_inference"]), {}, serverless=serverless
        ),
    )
    base = f"http://127.0.0.1:{answer.port}"
    try:
        with httpx.Client(timeout=60) as http:
            over = b'{"x": 1}' + b" " * (limit_mb * MB)
            for url in (f"{base}/invocations", f"{base}/endpoints/{name}/invocations"):
                refused = http.post(url, content=over, headers={"Content-Type": "application/json"})
                assert refused.status_code == 413, url
                assert f"{limit_mb} MB limit" in refused.text
            at_limit = b'{"x": 2}' + b" " * (limit_mb * MB - 8)
            assert http.post(f"{base}/invocations", content=at_limit).json() == {"y": 6, "accept": "application/json"}
    finally:
        client.delete("endpoints", name)


def status_without_sending_the_body(port: int, path: str, length: int) -> int:
    """Send only the headers of a POST declaring `length` bytes; the status that comes back.

    A server that buffered the body first would wait for bytes that never come, and the read
    below would time out (0) instead.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        conn.sendall(f"{head}Content-Length: {length}\r\n\r\n".encode())
        try:
            return int(conn.recv(4096).split(b" ", 2)[1])
        except TimeoutError:
            return 0


def test_an_oversized_body_is_refused_before_it_is_read(cloud):
    over = 6 * MB + 1
    daemon_port = cloud["client"].info()["port"]
    asked = [
        (cloud["transform_port"], "/invocations"),
        (cloud["transform_port"], "/endpoints/ep-transform/invocations"),
        (daemon_port, "/endpoints/ep-transform/invocations"),  # the runtime API on the daemon's own port
    ]
    assert [status_without_sending_the_body(port, path, over) for port, path in asked] == [413] * 3


def test_a_chunked_body_is_refused_once_it_passes_the_limit_not_read_to_its_end(cloud):
    """No Content-Length to refuse from: the 413 comes as the body streams past 6 MB, long
    before the client has sent all of it (a server that buffered the whole body first would not
    answer until the end)."""
    daemon_port = cloud["client"].info()["port"]
    asked = [
        (cloud["transform_port"], "/invocations"),
        (cloud["transform_port"], "/endpoints/ep-transform/invocations"),
        (daemon_port, "/endpoints/ep-transform/invocations"),
    ]
    for port, path in asked:
        sent = 0
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            conn.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
            try:
                while sent < 64 * MB:
                    conn.sendall(f"{MB:x}\r\n".encode() + b" " * MB + b"\r\n")
                    sent += MB
            except OSError:  # cut off: the server stopped reading
                pass
            assert int(conn.recv(4096).split(b" ", 2)[1]) == 413, (port, path)
        assert sent < 64 * MB, (port, path)
