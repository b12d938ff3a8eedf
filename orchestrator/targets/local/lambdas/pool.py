"""Lambda functions as pools of warm worker processes, one invocation per worker at a time.

Each worker is its own process with the function's environment, so handlers run as
they would on Lambda: imported once, isolated from the daemon and from each other.
A worker that times out is killed and replaced, as Lambda recycles a timed-out sandbox.
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

log = logging.getLogger("orchestrator.local.lambda")
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# The daemon's environment as it started, before endpoints add their own variables:
# a function sees only this, minus AWS settings, plus its route's environment.
BASE_ENVIRONMENT = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORCHESTRATOR_"))}
START_TIMEOUT_S = 30.0


class LambdaTimeout(Exception):
    pass


class LambdaFailed(Exception):
    """The handler raised, the worker died, or it could not start; the log has details."""


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler_file: Path
    function: str
    memory_mb: int
    region: str
    environment: dict[str, str] = field(default_factory=dict)

    def process_env(self) -> dict[str, str]:
        env = dict(BASE_ENVIRONMENT)
        env.update(
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_LAMBDA_FUNCTION_NAME=self.name,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(self.memory_mb),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.environment)
        return env


class Worker:
    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process

    async def call(self, document: dict) -> dict:
        data = json.dumps(document).encode("utf-8")
        self.process.stdin.write(struct.pack(">I", len(data)) + data)
        await self.process.stdin.drain()
        return await self.read()

    async def read(self) -> dict:
        header = await self.process.stdout.readexactly(4)
        (size,) = struct.unpack(">I", header)
        return json.loads(await self.process.stdout.readexactly(size))

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class FunctionPool:
    def __init__(self, spec: FunctionSpec, log_fd: int, max_workers: int = 4):
        self.spec = spec
        self.log_fd = log_fd
        self.max_workers = max_workers
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._starting = 0
        self._background: set[asyncio.Task] = set()
        self._changed = asyncio.Condition()
        self._closed = False

    async def _spawn(self) -> Worker:
        spec = self.spec
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",
            str(WORKER_SCRIPT),
            str(spec.handler_file),
            spec.function,
            spec.name,
            str(spec.memory_mb),
            spec.region,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log_fd,
            cwd=str(spec.handler_file.parent),
            env=spec.process_env(),
        )
        worker = Worker(process)
        try:
            await asyncio.wait_for(worker.read(), START_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            worker.kill()
            await process.wait()
            raise LambdaFailed(f"function {spec.name} did not start in {START_TIMEOUT_S:.0f} s") from exc
        except BaseException:  # cancelled: never leave a half-started worker behind
            worker.kill()
            raise
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
        await worker.process.wait()
        async with self._changed:
            self._all.discard(worker)
            self._changed.notify()

    async def invoke(self, event: dict, request_id: str, timeout: float) -> object:
        worker = await self._acquire()
        deadline = time.time() + timeout
        try:
            reply = await asyncio.wait_for(
                worker.call({"event": event, "requestId": request_id, "deadline": deadline}), timeout
            )
        except TimeoutError as exc:
            await self._discard(worker)
            replacement = asyncio.get_running_loop().create_task(self.warm_quietly())
            self._background.add(replacement)  # a task nobody references may be collected
            replacement.add_done_callback(self._background.discard)
            raise LambdaTimeout(self.spec.name) from exc
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            await self._discard(worker)
            raise LambdaFailed(f"function {self.spec.name} worker exited") from exc
        except BaseException:
            await self._discard(worker)
            raise
        await self._release(worker)
        if not reply.get("ok"):
            raise LambdaFailed(f"{reply.get('errorType')}: {reply.get('errorMessage')}")
        return reply["result"]

    async def warm_quietly(self) -> None:
        try:
            await self.warm()
        except LambdaFailed as exc:
            log.error("%s", exc)

    async def close(self) -> None:
        async with self._changed:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._changed.notify_all()
        for worker in workers:
            worker.kill()
        for worker in workers:
            await worker.process.wait()
