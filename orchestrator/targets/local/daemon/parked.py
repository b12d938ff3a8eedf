"""Services a restarted daemon restores without serving: their ${env:...} values were never
written down, and serving the rest with a hole (or the template) would be a wrong answer.

Each keeps its port and answers 503 with a JSON message until the next `run` puts it again,
so its callers learn why, and the probes of `plan` read it as gone.
"""

from __future__ import annotations

import json

from .protocol import NEEDS_RUN, NEEDS_RUN_HEADER

SERVICE_NOUNS = {"endpoints": "endpoint", "apis": "API", "websites": "website"}


def needs_run_message(service: str, name: str) -> str:
    return f"{SERVICE_NOUNS.get(service, service)} {name} {NEEDS_RUN}"


async def answer_needs_run(send, service: str, name: str) -> None:
    """503, as a service that is not available yet answers, with the sentence that says what to do."""
    body = json.dumps({"message": needs_run_message(service, name)}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (NEEDS_RUN_HEADER.encode(), b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class NeedsRun:
    """The ASGI app on a parked service's port: every request gets the 503."""

    def __init__(self, service: str, name: str):
        self.service, self.name = service, name

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            await answer_needs_run(send, self.service, self.name)
