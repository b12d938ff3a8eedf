"""Redeploying a model swaps it whole, with not one failed request during the swap."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx

from orchestrator.targets.local.daemon.protocol import EndpointRequest


def test_redeploy_under_load_has_zero_failures(cloud, files):
    client = cloud["client"]
    answer = client.put("ep-swap", EndpointRequest(files["model_v1"].as_uri(), None, {}))
    url = f"http://127.0.0.1:{answer.port}/invocations"
    runtime_url = f"http://127.0.0.1:{answer.port}/endpoints/ep-swap/invocations"
    seen: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer(target: str) -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                try:
                    reply = http.post(target, json={"instances": [[3.0]]})
                    if reply.status_code != 200:
                        failures.append(f"{reply.status_code} {reply.text}")
                    else:
                        seen.append(reply.json()["predictions"][0])
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    threads = [threading.Thread(target=hammer, args=(t,)) for t in (url, runtime_url)]
    for thread in threads:
        thread.start()
    try:
        while len(seen) < 20 and not failures:
            stop.wait(0.02)
        client.put("ep-swap", EndpointRequest(files["model_v2"].as_uri(), None, {}))
        count = len(seen)
        while len(seen) < count + 20 and not failures:
            stop.wait(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    client.delete("endpoints", "ep-swap")
    assert failures == []
    assert seen[0] == 1 and seen[-1] == 8
    first_new = seen.index(8)
    assert set(seen[:first_new]) == {1}


def test_redeploying_an_api_fails_no_request_in_flight(cloud, files):
    """A redeployed gateway finishes the requests already inside it, as API Gateway does."""
    from .conftest import api_spec, api_step, lambda_route

    client = cloud["client"]
    step = api_step([lambda_route("POST", "/predict", "predict")], stage="redeploy")
    api = client.put("api-redeploy", api_spec(step, files["root"]))
    url = f"http://127.0.0.1:{api.port}/redeploy/predict"
    answers: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                reply = http.post(url, json={"instances": [[3.0]]})
                (answers if reply.status_code == 200 else failures).append(reply.status_code)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(5):  # each put replaces the gateway and its Lambda workers
            before = len(answers)
            client.put("api-redeploy", api_spec(step, files["root"]))
            deadline = time.monotonic() + 30  # wait for answers, not for time: a loaded machine is slow
            while len(answers) <= before and time.monotonic() < deadline:
                stop.wait(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    client.delete("apis", "api-redeploy")
    assert failures == []
    assert len(answers) >= 5  # requests really went through while the gateway was replaced


def read_answer(conn: socket.socket) -> tuple[bytes, bytes]:
    """One answer of Content-Length framing: its head (lower-cased) and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"the connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")).split(b":")[1]
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head.lower(), body


def test_a_replaced_worker_says_close_on_the_last_answer_of_a_kept_alive_connection(cloud, files):
    """A keep-alive client sends its next request the moment an answer is complete; a worker that
    closed after that answer without saying so reset the request already on its way."""
    client = cloud["client"]
    port = client.put("ep-close", EndpointRequest(files["model_v1"].as_uri(), None, {})).port
    body = b'{"instances": [[3.0]]}'
    request = (
        f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(request)
            head, answer = read_answer(conn)
            assert b"connection: close" not in head and json.loads(answer)["predictions"] == [1]
            client.put("ep-close", EndpointRequest(files["model_v2"].as_uri(), None, {}))  # drains the old worker
            conn.sendall(request)
            head, answer = read_answer(conn)
            assert json.loads(answer)["predictions"] == [1]  # the old model, on its old connection
            assert b"\r\nconnection: close" in head
            assert conn.recv(1) == b""  # then a clean end, not a reset
        with httpx.Client(timeout=30) as http:
            assert http.post(f"http://127.0.0.1:{port}/invocations", content=body).json()["predictions"] == [8]
    finally:
        client.delete("endpoints", "ep-close")
