"""The gateway's HTTP layer on its own: header names as sent, keep-alive, bounded heads, timeouts."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest

from orchestrator.targets.local import h11_limits
from orchestrator.targets.local.asgi import Request, respond
from orchestrator.targets.local.daemon.servers import bind
from orchestrator.targets.local.gateway import http11


async def echo_app(scope, receive, send):
    request = Request.from_scope(scope)
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = {
        "headers": request.raw_headers,
        "path": scope["path"],
        "raw": scope["raw_path"].decode(),
        "body": body.decode(),
    }
    await respond(send, 200, json.dumps(answer).encode(), [("content-type", "application/json")])


@pytest.fixture
def server():
    """A RawHeaderServer on its own loop in a thread, as the daemon runs it."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box = {}

    def run():
        asyncio.set_event_loop(loop)
        box["server"] = http11.RawHeaderServer(echo_app, bind(0))
        loop.run_until_complete(box["server"].start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    yield box["server"].port
    asyncio.run_coroutine_threadsafe(box["server"].stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def exchange(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[1]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_header_names_reach_the_app_as_sent_and_one_connection_serves_many(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        for n in range(3):
            request = f"POST /prod/a%20b HTTP/1.1\r\nHost: x\r\nx-lower: 1\r\nX-Mixed-Case: {n}\r\nContent-Length: 2\r\n\r\nhi"
            answer = exchange(sock, request.encode())
            assert answer.startswith(b"HTTP/1.1 200")
            body = json.loads(answer.partition(b"\r\n\r\n")[2])
            assert ["x-lower", "1"] in body["headers"] and ["X-Mixed-Case", str(n)] in body["headers"]
            assert (body["raw"], body["body"]) == ("/prod/a%20b", "hi")


def test_a_head_over_api_gateways_10240_bytes_is_refused_and_closed(server):
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 11_000 + b"\r\n\r\n")
        sock.settimeout(10)
        answer = b""
        while chunk := sock.recv(65536):  # until the server closes the connection
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 431")
        assert answer.endswith(b"Request Header Fields Too Large")


def test_a_client_that_never_finishes_its_head_is_cut_off(server, monkeypatch):
    monkeypatch.setattr(http11, "HEAD_TIMEOUT_S", 0.3)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.settimeout(10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        assert sock.recv(65536) == b""  # the server closed the connection


def test_connections_past_the_bound_get_503_and_are_closed(server, monkeypatch):
    monkeypatch.setattr(h11_limits, "MAX_CONNECTIONS", 2)
    held = [socket.create_connection(("127.0.0.1", server), timeout=30) for _ in range(2)]
    try:
        for sock in held:  # both are served and kept alive
            assert exchange(sock, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200 ")
        with socket.create_connection(("127.0.0.1", server), timeout=30) as extra:
            data = b""
            while chunk := extra.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 503 ") and b"connection: close" in data.lower()
        assert exchange(held[0], b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200 ")  # still served
    finally:
        for sock in held:
            sock.close()
