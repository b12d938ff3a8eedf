"""A client that leaves mid-body is not a request: no model or control action runs on what arrived."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.targets.local.asgi import ClientGone, read_body
from orchestrator.targets.local.serving.app import EndpointApp


def _receiver(*messages):
    queue = list(messages)

    async def receive():
        return queue.pop(0)

    return receive


PARTIAL = ({"type": "http.request", "body": b'{"rows": [1, 2', "more_body": True}, {"type": "http.disconnect"})


def test_read_body_refuses_a_body_cut_off_by_a_disconnect():
    with pytest.raises(ClientGone):
        asyncio.run(read_body(_receiver(*PARTIAL)))
    whole = ({"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.request", "body": b"c"})
    assert asyncio.run(read_body(_receiver(*whole))) == b"abc"


class CountingModel:
    def __init__(self):
        self.bodies: list[bytes] = []

    def invoke(self, body, content_type, accept, context):
        self.bodies.append(body)
        return b"{}", "application/json"


@pytest.mark.parametrize("path", ["/invocations", "/endpoints/ep/invocations"])
def test_an_endpoint_never_invokes_its_model_on_a_truncated_body(path):
    model = CountingModel()
    app = EndpointApp("ep", model, max_payload=6 * 1024 * 1024, control_port=0)
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": [(b"content-type", b"application/json")]}
    asyncio.run(app(scope, _receiver(*PARTIAL), send))
    assert model.bodies == [] and sent == []  # nothing ran, nobody was answered
