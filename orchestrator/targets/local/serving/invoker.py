"""Model calls on a few threads of their own, off the worker's event loop.

SageMaker's model server runs a model call off the loop that answers `/ping`, so a
slow model never makes a health check fail, and it gives up on a call after the
invocation timeout. A ThreadPoolExecutor behind `run_in_executor` and `wait_for` does
that with two futures, a lock, a semaphore and a wake-up of the loop per call, which
for a small model cost as much CPU as the model. Here a call is one queue entry and
one asyncio future: the threads hand results back through one deque, and wake the
loop only when no hand-back is already pending, so under load many results share a
wake-up. At most `threads` calls run at once, as with the executor before.
"""

from __future__ import annotations

import asyncio
import collections
import queue
import threading
from collections.abc import Callable
from typing import Any


class Invoker:
    """Runs `function(*args)` on one of `threads` threads; awaitable with a timeout."""

    def __init__(self, threads: int = 4, name: str = "invoke"):
        self._size, self._name = threads, name
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._results: collections.deque = collections.deque()
        self._wake_pending = False
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def run(self, timeout: float, function: Callable, *args: Any) -> Any:
        """The call's result or exception; TimeoutError once `timeout` seconds pass (the call
        itself runs on to its end, as a Python thread cannot be stopped, and its result is dropped)."""
        if len(self._threads) < self._size:
            self._start_threads()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((function, args, future, loop))
        expiry = loop.call_later(timeout, _expire, future)
        try:
            return await future
        finally:
            expiry.cancel()

    def _start_threads(self) -> None:
        with self._lock:
            while len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._serve, name=f"{self._name}-{len(self._threads)}", daemon=True
                )  # daemon: a model call still running when the worker exits must not hold the exit
                thread.start()
                self._threads.append(thread)

    def _serve(self) -> None:
        jobs, results = self._jobs, self._results
        while True:
            function, args, future, loop = jobs.get()
            try:
                results.append((future, function(*args), None))
            except BaseException as exc:  # handed to the awaiting request, as the executor did
                results.append((future, None, exc))
            del function, args  # hold no request's data while waiting for the next one
            # Append first, then look: a hand-back that already cleared the flag runs after
            # the append, so it or the one scheduled here takes this result.
            if not self._wake_pending:
                self._wake_pending = True
                try:
                    loop.call_soon_threadsafe(self._hand_back)
                except RuntimeError:  # the loop is closed: the worker is exiting
                    return
            del future, loop

    def _hand_back(self) -> None:
        self._wake_pending = False
        results = self._results
        running = asyncio.get_running_loop()
        while results:
            future, value, exc = results.popleft()
            loop = future.get_loop()
            if loop is running:
                _settle(future, value, exc)
            else:  # one of another loop (an app served by more than one, as in tests): settled on its own
                try:
                    loop.call_soon_threadsafe(_settle, future, value, exc)
                except RuntimeError:
                    pass  # that loop is closed: nothing awaits the future any more


def _settle(future: asyncio.Future, value: Any, exc: BaseException | None) -> None:
    if future.done():  # timed out or cancelled meanwhile
        return
    if exc is None:
        future.set_result(value)
    else:
        future.set_exception(exc)


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
