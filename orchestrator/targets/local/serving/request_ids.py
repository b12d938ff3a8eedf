"""Request ids shaped as AWS's (a version-4 UUID), without a call for fresh randomness per request.

`uuid.uuid4()` reads 16 bytes from the kernel on every call, a system call that cost
more than the rest of the id. Here each process draws 80 random bits once and counts
in the last 48: ids stay unique across the local cloud's processes and restarts.
"""

from __future__ import annotations

import itertools
import os


def _prefix() -> str:
    # 80 random bits, with the version nibble (4) and the RFC 4122 variant bits in place
    text = f"{int.from_bytes(os.urandom(10), 'big'):020x}"
    variant = "89ab"[int(text[15], 16) & 3]
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[16:19]}-"


def _draw() -> None:
    global _PREFIX, _COUNTER
    _PREFIX = _prefix()
    _COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))  # next() on it is atomic: threads may share it


_draw()
os.register_at_fork(after_in_child=_draw)  # a forked child draws its own bits


def request_id() -> str:
    """A fresh id, e.g. `1b4e28ba-2fa1-41d2-883f-0016d3cca427`."""
    return f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFFFFFF:012x}"
