"""uvicorn's h11 protocol for an endpoint worker that a redeploy replaces: every connection ends cleanly.

A keep-alive client reuses its connection for the next request the moment an answer
is complete, so a server may end a connection in only two ways the client cannot
mistake: an answer that says `Connection: close`, or closing it while it is idle with
no request bytes arriving. uvicorn's own graceful shutdown closes a connection right
after its answer without saying so; a client that sent its next request in that
instant got a connection reset.
"""

from __future__ import annotations

import fcntl
import struct
import termios

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE

from ..h11_limits import LimitedH11
from .one_write import OneWrite

IDLE_DRAIN_S = 2.0  # an idle keep-alive connection of a draining worker is closed after this
CLOSE = (b"connection", b"close")


class AnnouncingConnection(h11.Connection):
    """An h11 server connection whose answers, once `closing`, each say `Connection: close`
    (h11 then ends the connection after that answer, and uvicorn closes it)."""

    closing = False

    def send(self, event):
        if self.closing and type(event) is h11.Response and not _says_close(event.headers):
            event = h11.Response(
                status_code=event.status_code,
                headers=[*event.headers, CLOSE],
                reason=event.reason,
                http_version=event.http_version,
            )
        return super().send(event)


def _says_close(headers) -> bool:
    return any(name == b"connection" and b"close" in value.lower() for name, value in headers)


def bytes_waiting(transport) -> int:
    """Request bytes the kernel holds for this connection that the event loop has not read yet."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return 0
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return 0


class DrainingH11(LimitedH11):
    """Draining: the answer under way and every later one say close; an idle connection is closed
    after IDLE_DRAIN_S, and only while nothing of a next request has arrived."""

    _draining = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = self.config.h11_max_incomplete_event_size
        self.conn = AnnouncingConnection(h11.SERVER, DEFAULT_MAX_INCOMPLETE_EVENT_SIZE if limit is None else limit)

    def connection_made(self, transport) -> None:
        super().connection_made(OneWrite(transport, self.loop))

    def shutdown(self) -> None:
        if self._draining:  # uvicorn's own shutdown asks again after the worker's
            return
        self._draining = True
        # An answer whose head already went out cannot say close any more: the connection stays
        # open and its next answer says it, or it is closed once idle.
        self.conn.closing = True
        self.loop.call_later(IDLE_DRAIN_S, self._close_when_idle)

    def _close_when_idle(self) -> None:
        if self.transport.is_closing():
            return
        busy = self.cycle is not None and not self.cycle.response_complete
        if busy or self.conn.trailing_data[0] or bytes_waiting(self.transport):
            self.loop.call_later(IDLE_DRAIN_S / 10, self._close_when_idle)  # its answer will say close
            return
        super().shutdown()
