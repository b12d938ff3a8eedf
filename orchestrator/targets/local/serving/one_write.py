"""A transport wrapper that sends an answer's head and body together: one system call, one packet."""

from __future__ import annotations


class OneWrite:
    """The connection's transport, but an answer's head goes out with its body in one send.

    uvicorn writes a response head the moment the app starts the answer and the body
    after it: two system calls and two packets for every small answer. Here a write is
    held until the next one or the end of the loop's turn, whichever comes first, so
    the order of bytes never changes and nothing waits past the turn it was written in.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport, loop):
        self._transport, self._loop, self._held = transport, loop, None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def writelines(self, chunks) -> None:
        self.write(b"".join(chunks))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)
