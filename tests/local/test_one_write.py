"""An endpoint worker's answer goes out in one write, in order, and nothing is held past the loop's turn."""

from __future__ import annotations

import asyncio

from orchestrator.targets.local.serving.one_write import OneWrite


class RecordingTransport:
    def __init__(self):
        self.writes, self.closed = [], False

    def write(self, data):
        self.writes.append(bytes(data))

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True
        self.writes.append("closed")

    def get_extra_info(self, name, default=None):
        return "peer" if name == "peername" else default


def test_a_head_and_its_body_written_in_one_turn_go_out_together():
    async def scenario():
        real = RecordingTransport()
        transport = OneWrite(real, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"ok")
        transport.write(b"")  # h11's end of a Content-Length message
        await asyncio.sleep(0)
        return real.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]


def test_a_lone_write_goes_out_at_the_end_of_the_turn_and_before_a_close():
    async def scenario():
        real = RecordingTransport()
        transport = OneWrite(real, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # the body comes in a later turn
        await asyncio.sleep(0)
        first = list(real.writes)
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
        transport.close()
        await asyncio.sleep(0)
        return first, real.writes, transport.get_extra_info("peername")

    first, writes, peer = asyncio.run(scenario())
    assert first == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    assert writes == [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 503 Service Unavailable\r\n\r\n", "closed"]
    assert peer == "peer"  # everything else is the transport's own
