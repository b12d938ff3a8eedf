"""Many small HTTP servers in one event loop, each started and stopped on its own.

uvicorn's `serve()` takes over the process's signals, which is wrong for one server
among many, so this drives its startup/main_loop/shutdown steps directly.
"""

from __future__ import annotations

import asyncio
import errno
import socket

import uvicorn

from ..h11_limits import LimitedH11
from .protocol import HOST


class PortInUse(Exception):
    """The port a service must keep is taken by someone else."""


def bind(port: int = 0) -> socket.socket:
    """Bind the local cloud's host on `port` (0 = any free one); binding first tells us the port at once."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when
    # the proto says TCP; without it, Nagle and delayed ACKs add 40 ms to each answer.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {HOST} is already in use") from exc
        raise
    sock.set_inheritable(False)
    return sock


class HttpServer:
    def __init__(self, app, sock: socket.socket):
        self.sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            http=LimitedH11,  # head and body read timeouts, a bound on connections
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_keep_alive=75,
            timeout_graceful_shutdown=5,
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        server = self._server
        server.config.load()
        server.lifespan = server.config.lifespan_class(server.config)
        await server.startup(sockets=[self.sock])
        self._task = asyncio.create_task(server.main_loop())

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
            await self._server.shutdown(sockets=[self.sock])
            self._task = None
        self.sock.close()
