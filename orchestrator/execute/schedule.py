"""Running a plan's ops in dependency order, several at a time when they are independent.

An op starts once every op it waits for (`Op.after`) has finished. After a failure no
new op starts; those already running finish and are recorded, so the run reports all
of their outcomes. Ctrl-C (or SIGTERM, which the CLI turns into it) reaches the main
thread; it is passed on to every running step, which stops as it would alone.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ..plan import Op

DEFAULT_PARALLELISM = 4


def run_ops(ops: Sequence[Op], do: Callable[[Op], None], parallelism: int) -> list[BaseException]:
    """Run every op (or stop at failures); return the failures, first first. KeyboardInterrupt propagates."""
    if parallelism <= 1:
        for op in ops:
            try:
                do(op)
            except Exception as exc:  # the caller tells step failures from bugs
                return [exc]
        return []
    return _Concurrent(ops, do, parallelism).run()


class _Concurrent:
    def __init__(self, ops: Sequence[Op], do: Callable[[Op], None], parallelism: int):
        self.pending = list(ops)  # in plan order, which is also the order of preference
        self.planned = {op.step for op in ops}
        self.do = do
        self.parallelism = parallelism
        self.done: set[str] = set()
        self.threads: dict[str, int] = {}  # running step -> its thread's id
        self.lock = threading.Lock()

    def run(self) -> list[BaseException]:
        failures: list[BaseException] = []
        running: dict[Future, Op] = {}
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="step") as pool:
            try:
                while self.pending or running:
                    if not failures:
                        for op in self._ready(self.parallelism - len(running)):
                            running[pool.submit(self._call, op)] = op
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        op = running.pop(future)
                        error = future.exception()
                        if error is None:
                            self.done.add(op.step)
                        elif isinstance(error, KeyboardInterrupt):
                            raise error
                        else:
                            failures.append(error)
            except KeyboardInterrupt:
                self._interrupt_all()
                wait(running)
                raise
        return failures

    def _ready(self, room: int) -> list[Op]:
        chosen = []
        for op in list(self.pending):
            if len(chosen) >= room:
                break
            if all(step in self.done or step not in self.planned for step in op.after):
                chosen.append(op)
                self.pending.remove(op)
        return chosen

    def _call(self, op: Op) -> Any:
        with self.lock:
            self.threads[op.step] = threading.get_ident()
        try:
            return self.do(op)
        finally:
            with self.lock:
                self.threads.pop(op.step, None)

    def _interrupt_all(self) -> None:
        """Raise KeyboardInterrupt inside each running step, so it stops and records itself as it
        does when it runs alone (a training script is killed with its process group, say)."""
        with self.lock:
            for thread_id in self.threads.values():
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(KeyboardInterrupt)
                )


class SerializedStore:
    """The state store, one call at a time: steps running at once record through it."""

    def __init__(self, store: Any):
        self._store = store
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def serialized(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return serialized
