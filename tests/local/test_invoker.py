"""An endpoint worker's model calls run off its event loop, bounded in number and in time."""

from __future__ import annotations

import asyncio
import threading

import pytest

from orchestrator.targets.local.serving import app as app_module
from orchestrator.targets.local.serving.app import EndpointApp
from orchestrator.targets.local.serving.invoker import Invoker


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_call_returns_its_result_and_raises_its_exception():
    invoker = Invoker(threads=2)

    def fails():
        raise ValueError("bad input")

    async def calls():
        assert await invoker.run(5, lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(ValueError, match="bad input"):
            await invoker.run(5, fails)
        # many at once, more than there are threads: each gets its own answer
        return await asyncio.gather(*(invoker.run(5, lambda n=n: n * n) for n in range(50)))

    assert run(calls()) == [n * n for n in range(50)]


def test_a_call_past_its_timeout_fails_and_the_threads_serve_on():
    invoker = Invoker(threads=1)
    release = threading.Event()

    async def calls():
        with pytest.raises(TimeoutError):
            await invoker.run(0.05, release.wait)
        release.set()  # the abandoned call ends; its late result is dropped
        return await invoker.run(5, lambda: "next")

    assert run(calls()) == "next"


def test_no_more_calls_run_at_once_than_there_are_threads():
    invoker = Invoker(threads=2)
    running, most, lock, release = 0, 0, threading.Lock(), threading.Event()

    def call():
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait()
        with lock:
            running -= 1

    async def calls():
        tasks = [asyncio.ensure_future(invoker.run(5, call)) for _ in range(6)]
        while running < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # room for a third call to start, were it allowed to
        release.set()
        await asyncio.gather(*tasks)

    run(calls())
    assert most == 2


class BlockingModel:
    """A model whose call waits until the test lets it go."""

    def __init__(self):
        self.started, self.release = threading.Event(), threading.Event()

    def invoke(self, body, content_type, accept, context):
        self.started.set()
        self.release.wait(10)
        return b'{"predictions": [1]}', "application/json"


async def asgi(app, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    scope = {"type": "http", "method": method, "path": path, "headers": [(b"content-type", b"application/json")]}
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_ping_answers_while_a_slow_model_runs_and_the_call_still_completes():
    model = BlockingModel()
    app = EndpointApp("e", model, 6 * 1024 * 1024, control_port=1)

    async def calls():
        invocation = asyncio.ensure_future(asgi(app, "POST", "/invocations", b"{}"))
        while not model.started.is_set():
            await asyncio.sleep(0.01)
        assert await asgi(app, "GET", "/ping") == (200, b"")  # the loop is free while the model runs
        model.release.set()
        return await invocation

    assert run(calls()) == (200, b'{"predictions": [1]}')


def test_a_model_call_past_the_invocation_timeout_is_answered_504_and_424(monkeypatch):
    monkeypatch.setattr(app_module, "INVOCATION_TIMEOUT_S", 0.05)
    model = BlockingModel()
    app = EndpointApp("e", model, 6 * 1024 * 1024, control_port=1)

    async def calls():
        container = await asgi(app, "POST", "/invocations", b"{}")
        runtime = await asgi(app, "POST", "/endpoints/e/invocations", b"{}")
        model.release.set()
        return container, runtime

    (status, body), (runtime_status, runtime_body) = run(calls())
    assert (status, body) == (504, b'{"message":"invocation timed out"}')
    assert runtime_status == 424 and b"timed out" in runtime_body
    assert (app.stats.requests, app.stats.errors) == (2, 2)
