"""A few ASGI helpers: the services speak raw ASGI to keep per-request work small."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body passed the service's limit; `complete` if it was read to its end."""

    def __init__(self, complete: bool):
        super().__init__("request body too large")
        self.complete = complete


class ClientGone(Exception):
    """The client disconnected before its body ended: there is no whole request to act on."""


@dataclass
class Request:
    method: str
    path: str
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[str, str]]  # lower-cased names, in arrival order
    client_ip: str
    raw_headers: list[tuple[str, str]] = field(default_factory=list)  # names as the server passed them
    _index: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_scope(cls, scope: dict) -> Request:
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        client = scope.get("client") or ("127.0.0.1", 0)
        return cls(
            method=scope["method"],
            path=scope["path"],
            raw_path=scope.get("raw_path") or scope["path"].encode(),
            query_string=scope.get("query_string", b""),
            headers=[(k.lower(), v) for k, v in raw],
            client_ip=client[0],
            raw_headers=raw,
        )

    def header(self, name: str, default: str | None = None) -> str | None:
        if not self._index:
            for key, value in self.headers:
                self._index.setdefault(key, value)
        return self._index.get(name.lower(), default)


async def read_body(receive: Receive, limit: int | None = None) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone  # never run a model or a Lambda on a truncated body
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge(complete=not message.get("more_body", False))
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def drain(receive: Receive, limit: int) -> bool:
    """Read and drop the rest of a body, so a client still sending can read our answer."""
    size = 0
    while size <= limit:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return True
        size += len(message.get("body", b""))
    return False


async def respond(send: Send, status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or [])]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


async def respond_json(send: Send, status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> None:
    await respond(send, status, json_body(data), [("content-type", "application/json"), *(headers or [])])
