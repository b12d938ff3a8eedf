"""A small keep-alive HTTP/1.1 client on asyncio, for the hops between the local cloud's processes.

The gateway's direct routes and the runtime API of a port that does not host the
endpoint forward to the endpoint's own port. Connections are kept per port and
reused, since on 2 cores a new connection per request costs more than the request.
Only what the local servers send is read: a status line, headers, and a body of
Content-Length bytes or chunked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..daemon.protocol import HOST

MAX_IDLE_PER_PORT = 32
MAX_HEADER_BYTES = 64 * 1024


class ConnectFailed(Exception):
    """Nothing listens on the port (the endpoint is gone)."""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]  # lower-case names
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return default


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    def __init__(self) -> None:
        self._idle: dict[int, list[_Connection]] = {}

    async def _connect(self, port: int) -> tuple[_Connection, bool]:
        idle = self._idle.get(port)
        while idle:
            connection = idle.pop()
            if not connection.reader.at_eof() and not connection.writer.is_closing():
                return connection, True
            connection.close()
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError as exc:
            raise ConnectFailed(f"nothing answers on port {port}: {exc}") from exc
        return _Connection(reader, writer), False

    async def request(
        self, port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""
    ) -> Response:
        """One request; a reused connection the server had closed is retried once on a new one."""
        for attempt in (1, 2):
            connection, reused = await self._connect(port)
            try:
                response = await self._exchange(connection, method, path, headers, body)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                connection.close()
                if reused and attempt == 1:
                    continue  # closed while idle (a redeploy drained it): nothing was processed
                raise ConnectFailed(f"port {port} closed the connection: {exc}") from exc
            except BaseException:  # a timeout or cancellation: the connection's state is unknown
                connection.close()
                raise
            if (response.header("connection") or "").lower() == "close":
                connection.close()
            else:
                pool = self._idle.setdefault(port, [])
                if len(pool) < MAX_IDLE_PER_PORT:
                    pool.append(connection)
                else:
                    connection.close()
            return response
        raise AssertionError("unreachable")

    @staticmethod
    async def _exchange(
        connection: _Connection, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> Response:
        lines = [f"{method} {path} HTTP/1.1", f"host: {HOST}", f"content-length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() not in ("host", "content-length", "connection")]
        connection.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await connection.writer.drain()
        head = await connection.reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            raise ConnectionError("response headers too large")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        parsed = []
        for line in header_lines:
            if line:
                key, _, value = line.partition(":")
                parsed.append((key.strip().lower(), value.strip()))
        response = Response(status, parsed, b"")
        length = response.header("content-length")
        if length is not None:
            response.body = await connection.reader.readexactly(int(length))
        elif (response.header("transfer-encoding") or "").lower() == "chunked":
            response.body = await _read_chunked(connection.reader)
        elif method != "HEAD" and status not in (204, 304):
            response.body = await connection.reader.read()
            response.headers.append(("connection", "close"))
        return response

    def close(self) -> None:
        for pool in self._idle.values():
            for connection in pool:
                connection.close()
        self._idle.clear()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
