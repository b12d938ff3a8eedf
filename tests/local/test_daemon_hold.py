"""A hold asked of a daemon that is already stopping is refused, so the caller starts a fresh one.

Without it, a run that asks for a hold in the moment the idle timer stopped the daemon (just
after the previous run let go) got "held" from a daemon about to exit, and then could not reach
its local S3.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from orchestrator.targets.local.daemon.control import ControlApp

TOKEN = "t" * 32


def _hold(app: ControlApp) -> list[dict]:
    sent: list[dict] = []

    async def receive():
        await asyncio.sleep(3600)  # the caller keeps its connection open

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/hold",
        "raw_path": b"/hold",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
    }

    async def call():
        await asyncio.wait_for(app(scope, receive, send), timeout=5)

    asyncio.run(call())
    return sent


def test_a_stopping_daemon_refuses_a_hold_with_503():
    stop = asyncio.Event()
    stop.set()
    cloud = SimpleNamespace(registry=None, holds=0, empty=lambda: True)
    sent = _hold(ControlApp(cloud, TOKEN, stop, idle_grace_s=60))
    assert sent[0]["status"] == 503
    assert json.loads(sent[1]["body"]) == {"error": "the local cloud is stopping"}
    assert cloud.holds == 0  # nothing was held
