"""One endpoint's process group: `python -m orchestrator.targets.local.serving.supervisor`.

Like a SageMaker container's model server, it runs N workers (SAGEMAKER_MODEL_SERVER_WORKERS,
default one per core) on one listening socket that the daemon owns and passes down, so
a redeploy's new group accepts on the same port while the old one drains. It reads its
configuration as one JSON line on stdin, says `{"ready": ...}` or `{"error": ...}` on
stdout once every worker has loaded the model (or one could not), restarts a worker
that dies while the others keep serving, and on `drain` (or when the daemon is gone and
its stdin closes) stops its workers gracefully and exits.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from .. import event_loop

WORKER = "orchestrator.targets.local.serving.worker"
START_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 35.0  # a little over a worker's own graceful shutdown
RESTART_DELAYS_S = (0.1, 0.5, 1.0, 2.0, 5.0)


def tell(document: dict) -> None:
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


class Supervisor:
    def __init__(self, config: dict):
        self.config = config
        self.workers: dict[int, asyncio.subprocess.Process] = {}
        self.draining = False
        self.failures = 0
        self.drain_begun: dict[int, asyncio.Event] = {}
        self.listeners: set[asyncio.Task] = set()
        self.keepers: set[asyncio.Task] = set()
        self.retiring: set[int] = set()  # workers asked to stop by a scale-in: not restarted

    async def spawn(self) -> asyncio.subprocess.Process:
        """A worker, ready to serve; ModelLoadError-like failures raise RuntimeError with the reason."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            WORKER,
            json.dumps(self.config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            pass_fds=(self.config["fd"],),
        )
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
            said = json.loads(line) if line else {"error": f"worker exited with code {await process.wait()}"}
        except (TimeoutError, ValueError) as exc:
            process.kill()
            said = {"error": f"worker did not load the model in {START_TIMEOUT_S:.0f} s: {exc}"}
        if "error" in said:
            await process.wait()
            raise RuntimeError(said["error"])
        self.workers[process.pid] = process
        begun = self.drain_begun[process.pid] = asyncio.Event()
        listener = asyncio.ensure_future(self._listen(process, begun))
        self.listeners.add(listener)
        listener.add_done_callback(self.listeners.discard)
        return process

    @staticmethod
    async def _listen(process: asyncio.subprocess.Process, begun: asyncio.Event) -> None:
        """A worker's later news: that it began draining (or its end, which counts the same)."""
        while True:
            line = await process.stdout.readline()
            if not line or b"draining" in line:
                begun.set()
            if not line:
                return

    async def keep(self, process: asyncio.subprocess.Process) -> None:
        """Restart a worker that dies (a crash, a kill) while the others keep serving."""
        while True:
            code = await process.wait()
            self.workers.pop(process.pid, None)
            if self.draining or process.pid in self.retiring:
                self.retiring.discard(process.pid)
                return
            delay = RESTART_DELAYS_S[min(self.failures, len(RESTART_DELAYS_S) - 1)]
            self.failures += 1
            print(
                f"endpoint {self.config['name']}: worker {process.pid} exited with {code}; restarting", file=sys.stderr
            )
            await asyncio.sleep(delay)
            try:
                process = await self.spawn()
            except RuntimeError as exc:
                print(f"endpoint {self.config['name']}: restarting a worker failed: {exc}", file=sys.stderr)
                continue
            self.failures = 0
            tell({"workers": sorted(self.workers)})

    def keep_in_background(self, process: asyncio.subprocess.Process) -> None:
        keeper = asyncio.ensure_future(self.keep(process))
        self.keepers.add(keeper)
        keeper.add_done_callback(self.keepers.discard)

    async def scale(self, count: int) -> None:
        """Start workers up to `count`, or stop the newest ones gracefully (they finish what they have)."""
        serving = [pid for pid in self.workers if pid not in self.retiring]
        if count > len(serving):
            for _ in range(count - len(serving)):
                try:
                    self.keep_in_background(await self.spawn())
                except RuntimeError as exc:
                    print(f"endpoint {self.config['name']}: starting a worker failed: {exc}", file=sys.stderr)
                    break
        for pid in sorted(serving, reverse=True)[: max(0, len(serving) - count)]:
            self.retiring.add(pid)
            try:
                self.workers[pid].send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        print(f"endpoint {self.config['name']}: scaled to {count} worker(s)", file=sys.stderr, flush=True)
        tell({"workers": sorted(pid for pid in self.workers if pid not in self.retiring)})

    async def drain(self) -> None:
        self.draining = True
        for process in list(self.workers.values()):
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        begun = [self.drain_begun[pid].wait() for pid in self.workers if pid in self.drain_begun]
        try:
            await asyncio.wait_for(asyncio.gather(*begun), DRAIN_TIMEOUT_S)
        except TimeoutError:
            pass
        tell({"draining": True})  # the daemon's redeploy returns now: new requests reach the new group
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in self.workers.values())), DRAIN_TIMEOUT_S)
        except TimeoutError:
            os.killpg(os.getpgrp(), signal.SIGKILL)  # whatever is left of the group, this process included


async def run(config: dict) -> int:
    supervisor = Supervisor(config)
    count = config["workers"]
    try:
        started = await asyncio.gather(*(supervisor.spawn() for _ in range(count)))
    except RuntimeError as exc:
        tell({"error": str(exc)})
        await supervisor.drain()
        return 3
    tell({"ready": True, "workers": sorted(supervisor.workers)})
    for process in started:
        supervisor.keep_in_background(process)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line or line.strip() == b"drain":  # the daemon asked, or it is gone
            break
        if line.startswith(b"{"):  # {"scale": N}: the daemon's autoscaler
            await supervisor.scale(int(json.loads(line)["scale"]))
    os.close(config["fd"])  # nothing new is accepted here: the daemon, or the next group, has the socket
    await supervisor.drain()
    for keeper in list(supervisor.keepers):
        keeper.cancel()
    return 0


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(os.getpgrp(), signal.SIGKILL))
    line = b""
    while not line.endswith(b"\n"):  # unbuffered: what follows on stdin is read by the event loop
        byte = os.read(0, 1)
        if not byte:
            return 2
        line += byte
    config = json.loads(line)
    return event_loop.run(run(config))


if __name__ == "__main__":
    sys.exit(main())
