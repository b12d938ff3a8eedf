"""Lambda functions as pools of warm worker processes, one invocation per worker at a time.

Each worker is its own process (bootstrap.py under `python -I -S`) with only the
function's environment and sys.path, so handlers run as they would on Lambda: imported
once, isolated from the daemon, from this machine's packages and from each other.
A worker that times out is killed and replaced, as Lambda recycles a timed-out sandbox;
one whose memory passes `memory_mb` is killed, as Lambda ends a sandbox out of memory.

The START, END and REPORT lines are written here, as Lambda's platform (not the function's
process) writes them: an invocation's own output is read to its last byte before END, so
each line is tied to its request id, and the worker writes nothing per call but its answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..logbook import LambdaLines, LogWriter

log = logging.getLogger("orchestrator.local.lambda")
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
START_TIMEOUT_S = 30.0
WATCH_INTERVAL_S = 0.05  # how often a worker's memory is read
PAGE = os.sysconf("SC_PAGE_SIZE")
MAX_WORKERS = 4  # instances of one function at once; past that, requests wait for one (counted in their timeout)


class LambdaTimeout(Exception):
    pass


class LambdaFailed(Exception):
    """The handler raised, the worker died, or it could not start; the log has details."""


class FunctionError(LambdaFailed):
    """The handler raised: `error` is Lambda's error document (errorMessage, errorType, stackTrace),
    which a custom integration matches its error patterns against."""

    def __init__(self, error: dict):
        super().__init__(f"{error.get('errorType')}: {error.get('errorMessage')}")
        self.error = error


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    task_root: Path  # the bundle
    layers: tuple[str, ...]  # after the bundle on sys.path: requirements, the runtime's boto3
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)  # all of it (environment.py)


def rss_mb(pid: int) -> float | None:
    """A process's resident memory in MB, None once it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE / (1024 * 1024)
    except (OSError, IndexError, ValueError):
        return None


class Worker:
    """One worker process: frames on its stdin/stdout, its output (stderr) read into the function's log."""

    def __init__(self, process: asyncio.subprocess.Process, output_fd: int, log: LogWriter, memory_mb: int):
        self.process = process
        self.lines = LambdaLines(log)
        self.memory_mb = memory_mb
        self.peak_mb = 0.0
        self.out_of_memory = False
        self.init_failed = False  # its handler did not import: every call fails, with no START or END
        self._output_fd: int | None = output_fd
        self._partial = b""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(output_fd, self.read_output)

    def read_output(self) -> None:
        """Whatever the worker has written so far, line by line into the log (never blocks)."""
        fd = self._output_fd
        while fd is not None:
            try:
                data = os.read(fd, 65_536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # the worker and anything it started are gone
                self._close_output()
                return
            *complete, self._partial = (self._partial + data).split(b"\n")
            for line in complete:
                self.lines.line(line.decode("utf-8", "replace").rstrip("\r"))

    def _close_output(self) -> None:
        if self._output_fd is None:
            return
        self._end_partial_line()
        self._loop.remove_reader(self._output_fd)
        os.close(self._output_fd)
        self._output_fd = None

    def _end_partial_line(self) -> None:
        if self._partial:
            text, self._partial = self._partial, b""
            self.lines.line(text.decode("utf-8", "replace").rstrip("\r"))

    async def call(self, document: dict) -> dict:
        request_id = document["requestId"]
        data = json.dumps(document).encode("utf-8")
        if not self.init_failed:  # a handler that never imported fails each call without START or END
            self.lines.line(f"START RequestId: {request_id} Version: $LATEST")
        self.process.stdin.write(struct.pack(">I", len(data)) + data)
        await self.process.stdin.drain()
        reply = await self.read()
        if self.init_failed:
            return reply
        # The worker wrote all of this invocation's output before its answer: read it before END.
        self.read_output()
        self._end_partial_line()
        duration_ms = reply.pop("durationMs", 0.0)
        self.lines.line(f"END RequestId: {request_id}")
        self.lines.line(
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
            f"\tBilled Duration: {max(1, round(duration_ms))} ms\tMemory Size: {self.memory_mb} MB"
            f"\tMax Memory Used: {reply.pop('maxMemoryMB', 0)} MB"
        )
        return reply

    async def read(self) -> dict:
        header = await self.process.stdout.readexactly(4)
        (size,) = struct.unpack(">I", header)
        return json.loads(await self.process.stdout.readexactly(size))

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    async def stopped(self) -> None:
        """Wait for the process to end, then log the last of its output."""
        await self.process.wait()
        self.read_output()
        self._close_output()


class FunctionPool:
    def __init__(self, spec: FunctionSpec, log: LogWriter, max_workers: int = MAX_WORKERS):
        self.spec = spec
        self.log = log  # the function's own log: its prints and errors, by request id
        self.max_workers = max_workers
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._starting = 0
        self._background: set[asyncio.Task] = set()
        self._changed = asyncio.Condition()
        self._closed = False
        self._watchdog: asyncio.Task | None = None

    async def _spawn(self) -> Worker:
        spec = self.spec
        output_r, output_w = os.pipe()  # the worker's stderr, read as it comes (Worker.read_output)
        os.set_blocking(output_r, False)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",  # no PYTHON* variables, no user site, not the script's folder on sys.path
                "-S",  # no site-packages at all: bootstrap.py sets sys.path to the bundle and its layers
                "-B",  # the task root is Lambda's deployed code: nothing is written into it (layers come compiled)
                str(BOOTSTRAP),
                *spec.layers,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=output_w,
                cwd=str(spec.task_root),
                env=spec.environment,
            )
        except BaseException:
            os.close(output_r)
            raise
        finally:
            os.close(output_w)
        worker = Worker(process, output_r, self.log, spec.memory_mb)
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_memory())
        try:
            ready = await asyncio.wait_for(worker.read(), START_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            worker.kill()
            await worker.stopped()
            raise LambdaFailed(f"function {spec.name} did not start in {START_TIMEOUT_S:.0f} s") from exc
        except BaseException:  # cancelled: never leave a half-started worker behind
            worker.kill()
            raise
        worker.read_output()  # the init phase's output, before any invocation's START
        worker.init_failed = bool(ready.get("initFailed"))
        return worker

    async def warm(self) -> None:
        """Start one worker ahead of the first request (a provisioned instance)."""
        if self._all or self._starting:
            return
        await self._release(await self._acquire())

    async def _acquire(self) -> Worker:
        """An idle worker, or a new one while under max_workers, else wait for one."""
        async with self._changed:
            while True:
                if self._closed:
                    raise LambdaFailed(f"function {self.spec.name} was removed")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._starting < self.max_workers:
                    self._starting += 1
                    break
                await self._changed.wait()
        worker = None
        try:
            worker = await self._spawn()
        finally:
            async with self._changed:
                self._starting -= 1
                if worker is not None:
                    self._all.add(worker)
                self._changed.notify()
        return worker

    async def _release(self, worker: Worker) -> None:
        async with self._changed:
            if self._closed:
                worker.kill()
                self._all.discard(worker)
            else:
                self._idle.append(worker)
            self._changed.notify()

    async def _discard(self, worker: Worker) -> None:
        worker.kill()
        await worker.stopped()
        async with self._changed:
            self._all.discard(worker)
            self._changed.notify()

    async def invoke(self, event: dict, request_id: str, timeout: float) -> object:
        """The function's answer within `timeout`, counted from now: time spent waiting for a
        free worker is part of it, as API Gateway's integration timeout counts it."""
        deadline = time.time() + timeout
        try:
            async with asyncio.timeout(timeout):  # no extra task per call, unlike wait_for
                worker = await self._acquire()
        except TimeoutError as exc:
            raise LambdaTimeout(self.spec.name) from exc
        try:
            async with asyncio.timeout(max(0.0, deadline - time.time())):
                reply = await worker.call({"event": event, "requestId": request_id, "deadline": deadline})
        except TimeoutError as exc:
            await self._discard(worker)
            replacement = asyncio.get_running_loop().create_task(self.warm_quietly())
            self._background.add(replacement)  # a task nobody references may be collected
            replacement.add_done_callback(self._background.discard)
            self.log.write(f"{request_id} Task timed out after {timeout:.2f} seconds", request_id)
            raise LambdaTimeout(self.spec.name) from exc
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            await self._discard(worker)
            if worker.out_of_memory:
                self.log.write(
                    f"REPORT RequestId: {request_id}\tMemory Size: {self.spec.memory_mb} MB\t"
                    f"Max Memory Used: {worker.peak_mb:.0f} MB\tError: Runtime exited with error: signal: killed",
                    request_id,
                )
                raise LambdaFailed(
                    f"function {self.spec.name}: Runtime exited with error: signal: killed "
                    f"(Runtime.OutOfMemory: {worker.peak_mb:.0f} MB used, memory_mb is {self.spec.memory_mb})"
                ) from exc
            raise LambdaFailed(f"function {self.spec.name} worker exited") from exc
        except BaseException:
            await self._discard(worker)
            raise
        await self._release(worker)
        if not reply.get("ok"):
            raise FunctionError({key: value for key, value in reply.items() if key != "ok"})
        return reply["result"]

    async def _watch_memory(self) -> None:
        """Kill a worker whose resident memory passes memory_mb, as Lambda ends such a sandbox."""
        limit = self.spec.memory_mb
        while not self._closed:
            for worker in list(self._all):
                used = rss_mb(worker.process.pid)
                if used is None or worker.process.returncode is not None:
                    continue
                worker.peak_mb = max(worker.peak_mb, used)
                if used > limit and not worker.out_of_memory:
                    worker.out_of_memory = True
                    log.error(
                        "REPORT function %s: Memory Size: %d MB Max Memory Used: %.0f MB: killed (out of memory)",
                        self.spec.name,
                        limit,
                        used,
                    )
                    worker.kill()
                    if worker in self._idle:  # nobody waits on it: drop it now, a request starts another
                        async with self._changed:
                            self._idle.remove(worker)
                            self._all.discard(worker)
                            self._changed.notify()
            await asyncio.sleep(WATCH_INTERVAL_S)

    async def warm_quietly(self) -> None:
        try:
            await self.warm()
        except LambdaFailed as exc:
            log.error("%s", exc)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        async with self._changed:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._changed.notify_all()
        for worker in workers:
            worker.kill()
        for worker in workers:
            await worker.stopped()
