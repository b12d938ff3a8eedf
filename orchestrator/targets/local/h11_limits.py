"""uvicorn's h11 protocol with the limits of a cloud's edge: slow or silent clients cannot hold a port.

uvicorn times out only an idle keep-alive connection: a connection that sends nothing,
half a request head or half a body stays open for as long as the client likes, so one
local user could use up the daemon's file handles. Here a request head must arrive
within HEAD_TIMEOUT_S of its first byte (or of the connection's start), a body may pause
no longer than BODY_TIMEOUT_S, and a server holds at most MAX_CONNECTIONS connections:
one past that is answered 503 and closed. (The API ports' own server, gateway/http11.py,
keeps the same head timeout and connection bound.)
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT_S = 10.0  # API Gateway's edge gives up on a slow client within seconds too
BODY_TIMEOUT_S = 10.0  # the longest pause inside a body while the server is reading it
MAX_CONNECTIONS = 256  # per server: many services share the daemon's file handles


def refusal(status: int, reason: str) -> bytes:
    """A whole answer, written without h11: the connection ends with it whatever h11's state."""
    body = f"{reason}\n".encode()
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
    return f"{head}content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body


class LimitedH11(H11Protocol):
    """A deadline for each request head, a bound on pauses inside a body, a bound on connections."""

    _timer = None
    _head_deadline: float | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            self._refuse(503, "Service Unavailable")
            return
        self._head_deadline = self.loop.time() + HEAD_TIMEOUT_S  # its first request, even with no byte yet
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm the one timer this connection needs now: a head's deadline, a body's pause, or none
        (a request being answered, or an idle keep-alive connection, which uvicorn times out)."""
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.IDLE and (self.conn.trailing_data[0] or self._head_deadline is not None):
            if self._head_deadline is None:
                self._head_deadline = self.loop.time() + HEAD_TIMEOUT_S
            self._arm_at(self._head_deadline)
            return
        self._head_deadline = None
        if state is h11.SEND_BODY:
            self._arm_at(self.loop.time() + BODY_TIMEOUT_S)  # each arrival restarts the pause
        else:
            self._cancel()

    def _arm_at(self, when: float) -> None:
        self._cancel()
        self._timer = self.loop.call_at(when, self._timed_out)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self.flow.read_paused:  # the app has not taken what came: the server is behind, not the client
                self._arm_at(self.loop.time() + BODY_TIMEOUT_S)
                return
            cycle = self.cycle
            if cycle is not None:
                started = cycle.response_started
                cycle.disconnected = True  # the app's receive() ends, its answer goes nowhere
                cycle.message_event.set()
                if not started:
                    self._refuse(408, "Request Timeout")
                    return
            self.transport.close()
        elif state is h11.IDLE and self._head_deadline is not None:
            if self.conn.trailing_data[0]:
                self._refuse(408, "Request Timeout")
            else:
                self.transport.close()  # nothing was asked: nothing to answer

    def _refuse(self, status: int, reason: str) -> None:
        self._cancel()
        self.transport.write(refusal(status, reason))
        self.transport.close()
