"""The event loop every long-running process of the local cloud runs on: uvloop where it installs.

The daemon, an endpoint's supervisor and its workers spend much of each request in the
loop itself (waking on sockets and pipes, scheduling callbacks). uvloop does that in C on
libuv, which is what uvicorn picks too when it can; without it (Windows) the standard
loop serves, unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the fastest loop available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
