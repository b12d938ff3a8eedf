"""The gateway's HTTP/1.1 server: h11 on asyncio, so header names reach handlers as the client
sent them (ASGI servers lower-case them in the scope; API Gateway does not).

It speaks ASGI to the app, with one difference the gateway relies on: `scope["headers"]`
keeps each name's case (h11's `raw_items()`). Keep-alive, TCP_NODELAY (set by asyncio for
TCP sockets), a bounded request head (API Gateway's 10,240 bytes of request line and
headers) and a time limit on reading it, so an idle or slow client cannot hold a slot.
Limits: https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import h11

from .. import h11_limits

log = logging.getLogger("orchestrator.local.gateway")

MAX_HEAD = 10_240  # request line and headers, bytes
HEAD_TIMEOUT_S = h11_limits.HEAD_TIMEOUT_S  # a whole request head, as on every local port
KEEP_ALIVE_S = 75.0  # idle time between requests on one connection
BODY_TIMEOUT_S = 30.0  # between two chunks of a body
DRAIN_LIMIT = 64 * 1024 * 1024  # an unread body past this closes the connection instead
READ_SIZE = 65_536


def head_size(request: h11.Request) -> int:
    """Bytes of the request line and headers as sent."""
    line = len(request.method) + len(request.target) + 11
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items()) + 2


class ClientGone(Exception):
    """The client closed the connection or stopped sending in time."""


class Connection:
    """One client connection: requests one after another (keep-alive), each handed to the app."""

    def __init__(self, app, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int):
        self.app = app
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.client = (peer[0], peer[1])
        self.server = ("127.0.0.1", port)

    async def _event(self, timeout: float):
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(timeout):  # no task per read, unlike wait_for
                    data = await self.reader.read(READ_SIZE)
            except (TimeoutError, ConnectionError) as exc:
                raise ClientGone from exc
            self.h11.receive_data(data)  # b"" is the end of the stream

    async def _send(self, *events) -> None:
        """One write for the events (head, body and end together: one segment for small answers)."""
        data = b"".join(self.h11.send(event) or b"" for event in events)
        if data:
            self.writer.write(data)
        await self.writer.drain()

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        first = True
        try:
            while True:
                # A new connection gets the head timeout for its first request; an idle one keep-alive's.
                deadline = loop.time() + (HEAD_TIMEOUT_S if first else KEEP_ALIVE_S)
                event = await self._event(max(0.0, deadline - loop.time()))
                if isinstance(event, h11.ConnectionClosed):
                    return
                if not isinstance(event, h11.Request):
                    return
                first = False
                if head_size(event) > MAX_HEAD:  # h11 bounds only a head still arriving
                    raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
                await self._request(event)
                if not await self._finish_cycle():
                    return
        except h11.RemoteProtocolError as exc:
            await self._refuse(exc)
        except (ClientGone, ConnectionError):
            pass
        finally:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()

    async def _refuse(self, exc: h11.RemoteProtocolError) -> None:
        """A malformed or oversized head: answer once, then close (no request reached the app)."""
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        status = exc.error_status_hint
        body = b"Request Header Fields Too Large" if status == 431 else b"Bad Request"
        with contextlib.suppress(Exception):
            headers = [("content-length", str(len(body))), ("connection", "close")]
            await self._send(h11.Response(status_code=status, headers=headers), h11.Data(data=body), h11.EndOfMessage())

    async def _finish_cycle(self) -> bool:
        """Read what is left of the request body, so the next request can start on this connection."""
        if self.h11.our_state is not h11.DONE or self.h11.they_are_waiting_for_100_continue:
            return False  # a client still waiting for 100 Continue sends no body: close instead
        size = 0
        while self.h11.their_state is h11.SEND_BODY:
            event = await self._event(BODY_TIMEOUT_S)
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > DRAIN_LIMIT:
                    return False
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False

    async def _request(self, request: h11.Request) -> None:
        target = request.target
        path, _, query = target.partition(b"?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": request.http_version.decode(),
            "method": request.method.decode("ascii"),
            "scheme": "http",
            "path": path.decode("latin-1"),
            "raw_path": path,
            "query_string": query,
            "headers": list(request.headers.raw_items()),  # names as sent
            "client": self.client,
            "server": self.server,
        }
        state = {"started": False, "status": 200, "headers": [], "done": False}

        async def receive() -> dict:
            if self.h11.their_state is not h11.SEND_BODY:
                return {"type": "http.request", "body": b"", "more_body": False}
            if self.h11.they_are_waiting_for_100_continue:
                await self._send(h11.InformationalResponse(status_code=100, headers=[]))
            try:
                event = await self._event(BODY_TIMEOUT_S)
            except (ClientGone, h11.RemoteProtocolError):
                return {"type": "http.disconnect"}
            if isinstance(event, h11.Data):
                return {"type": "http.request", "body": bytes(event.data), "more_body": True}
            if isinstance(event, h11.EndOfMessage):
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["headers"] = message["status"], list(message.get("headers", []))
                return
            if message["type"] != "http.response.body" or state["done"]:
                return
            events = []
            if not state["started"]:
                state["started"] = True
                events.append(h11.Response(status_code=state["status"], headers=state["headers"]))
            body = message.get("body", b"")
            if body and request.method != b"HEAD":
                events.append(h11.Data(data=body))
            if not message.get("more_body", False):
                state["done"] = True
                events.append(h11.EndOfMessage())
            await self._send(*events)

        try:
            await self.app(scope, receive, send)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            if not state["started"]:
                await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})


class RawHeaderServer:
    """Serves `app` on a bound socket until stopped; the daemon's HttpServer interface."""

    def __init__(self, app, sock: socket.socket):
        self.app = app
        self.sock = sock
        self.port = sock.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= h11_limits.MAX_CONNECTIONS:  # the same bound as every other local port
            writer.write(h11_limits.refusal(503, "Service Unavailable"))
            with contextlib.suppress(OSError):
                await writer.drain()
            writer.close()
            return
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            await Connection(self.app, reader, writer, self.port).serve()
        finally:
            self._connections.discard(task)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, sock=self.sock, limit=READ_SIZE)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
        self.sock.close()
