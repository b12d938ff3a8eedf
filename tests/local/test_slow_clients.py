"""Slow, silent and too many clients on the local cloud's uvicorn ports (S3 API, websites, control,
endpoints): a head deadline, a bound on pauses inside a body, a bound on connections.

The limits are shortened here; every assertion is either "closed no sooner than the limit" or
"still served after longer than the limit", so a slow machine cannot make one fail.
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time

import pytest

from orchestrator.targets.local import h11_limits
from orchestrator.targets.local.asgi import respond
from orchestrator.targets.local.daemon.servers import HttpServer, bind

HEAD_S, BODY_S = 0.5, 2.0
seen: list[tuple[str, bytes]] = []


async def counting_app(scope, receive, send):
    """Answers with the size of the body it read; records what it got (or that the client went)."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            seen.append(("disconnect", body))
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen.append(("body", body))
    await respond(send, 200, str(len(body)).encode(), [("content-type", "text/plain")])


@pytest.fixture
def port(monkeypatch):
    """An HttpServer, as the daemon runs its S3 API and websites, on its own loop in a thread."""
    monkeypatch.setattr(h11_limits, "HEAD_TIMEOUT_S", HEAD_S)
    monkeypatch.setattr(h11_limits, "BODY_TIMEOUT_S", BODY_S)
    seen.clear()
    loop = asyncio.new_event_loop()
    server = HttpServer(counting_app, bind(0))
    started = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield server.port
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started, data = time.monotonic(), b""
    sock.settimeout(60)
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - started


def answer(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body), however the server split its writes."""
    sock.settimeout(60)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(x for x in head.lower().split(b"\r\n") if x.startswith(b"content-length:")).split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=60)


def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(port):
    with connect(port) as sock:
        data, took = until_closed(sock)
    assert data == b"" and took >= HEAD_S * 0.9


def test_half_a_request_head_is_408_after_the_head_timeout(port):
    with connect(port) as sock:
        sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        data, took = until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 ") and b"connection: close" in data.lower()
    assert took >= HEAD_S * 0.9


def test_a_head_sent_a_byte_at_a_time_does_not_restart_its_deadline(port):
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200
    with connect(port) as sock:
        started = time.monotonic()
        for byte in head:
            if select.select([sock], [], [], HEAD_S / 20)[0]:  # the server answered: stop sending
                break
            sock.sendall(bytes([byte]))
        try:
            data, _ = until_closed(sock)
        except ConnectionResetError:  # a byte crossed the server's close: the timing still tells
            data = b"HTTP/1.1 408 (reset)"
    took = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 408 ") and HEAD_S * 0.9 <= took < len(head) * HEAD_S / 20


def test_half_a_body_is_408_after_a_pause_and_the_app_sees_the_client_gone(port):
    with connect(port) as sock:
        sock.sendall(b"PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n" + b"x" * 40)
        data, took = until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 ") and took >= BODY_S * 0.9
    deadline = time.monotonic() + 30
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen == [("disconnect", b"x" * 40)]  # never taken for a whole body


def test_a_body_that_keeps_coming_is_read_however_long_it_takes(port):
    """The body bound is on pauses, not on the whole: a big upload on a slow link is not cut."""
    pieces = 12
    with connect(port) as sock:
        sock.sendall(f"PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {pieces}\r\n\r\n".encode())
        started = time.monotonic()
        for _ in range(pieces):
            time.sleep(BODY_S / 8)
            sock.sendall(b"x")
        got = answer(sock)
    assert time.monotonic() - started > BODY_S  # longer than one pause may be, in all
    assert got.startswith(b"HTTP/1.1 200 ") and got.endswith(b"\r\n\r\n12")


def test_an_idle_keep_alive_connection_is_not_taken_for_a_slow_head(port):
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connect(port) as sock:
        sock.sendall(request)
        assert answer(sock).startswith(b"HTTP/1.1 200 ")
        time.sleep(HEAD_S * 3)  # idle between requests: keep-alive's own (longer) timeout applies
        sock.sendall(request)
        assert answer(sock).startswith(b"HTTP/1.1 200 ")


def test_connections_past_the_bound_are_503_and_closed(port, monkeypatch):
    monkeypatch.setattr(h11_limits, "MAX_CONNECTIONS", 3)
    held = [connect(port) for _ in range(3)]
    try:
        for sock in held:  # each is accepted and served
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert answer(sock).startswith(b"HTTP/1.1 200 ")
        with connect(port) as extra:
            data, _ = until_closed(extra)
        assert data.startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # their slots are free again once they are gone
        with connect(port) as again:
            again.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            if answer(again).startswith(b"HTTP/1.1 200 "):
                return
        time.sleep(0.05)
    raise AssertionError("a connection was refused after the others had closed")


def test_an_endpoint_port_times_out_half_a_head_too(cloud):
    """The endpoint's workers, in their own processes, run the same protocol (under their drain)."""
    with connect(cloud["transform_port"]) as sock:
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        data, took = until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 ") and took >= h11_limits.HEAD_TIMEOUT_S * 0.9
