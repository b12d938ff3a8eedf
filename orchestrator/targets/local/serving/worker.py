"""One endpoint worker: `python -m orchestrator.targets.local.serving.worker CONFIG`.

Started by its endpoint's supervisor with the endpoint's listening socket inherited
(shared by every worker of the endpoint, across redeploys), it loads the model as the
inference toolkit does, says `{"ready": ...}` (or `{"error": ...}`) on stdout, and
serves until SIGTERM or until its supervisor goes away (its stdin closes).

A SIGTERM (a redeploy replaced this worker) stops accepting at once; each open
connection gets its next answer with `Connection: close`, and one left idle is closed
after a short grace while no request is arriving on it (draining.py), so a client in
the middle of a keep-alive exchange never sees its connection dropped under it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

import uvicorn

from .draining import DrainingH11


class DrainingServer(uvicorn.Server):
    """Begins draining the moment SIGTERM arrives: a redeploy waits for it, so no request that
    comes after the swap reaches the old model on a new connection, and at most one per open one."""

    def handle_exit(self, sig, frame) -> None:
        loop = getattr(self, "loop", None)
        if loop is not None and not self.should_exit:
            loop.call_soon_threadsafe(self.begin_drain)
        super().handle_exit(sig, frame)

    async def startup(self, sockets=None) -> None:
        import asyncio

        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def begin_drain(self) -> None:
        for server in getattr(self, "servers", ()):
            server.close()  # accepts nothing more; the socket stays open in the group that replaces this one
        for connection in list(self.server_state.connections):
            connection.shutdown()
        tell({"draining": True})


def watch_supervisor() -> None:
    """Exit when the supervisor is gone: its end of our stdin closes."""

    def wait() -> None:
        try:
            while os.read(0, 1024):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait, name="supervisor-watch", daemon=True).start()


NEWS = sys.stdout  # to the supervisor; main() moves the model's own prints off it


def tell(document: dict) -> None:
    NEWS.write(json.dumps(document) + "\n")
    NEWS.flush()


def prints_to_the_log() -> None:
    """The model's prints go where a container's stdout goes (the endpoint's log), never into the news."""
    global NEWS
    NEWS = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1)


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    prints_to_the_log()
    from .app import EndpointApp
    from .inference import ModelLoadError, load_model
    from .stats import WorkerStats

    sock = socket.socket(fileno=config["fd"])
    try:
        model = load_model(
            Path(config["model_dir"]), Path(config["inference"]) if config["inference"] else None, config["framework"]
        )
    except ModelLoadError as exc:
        tell({"error": str(exc)})
        return 3
    stats = WorkerStats(Path(config["stats_dir"]) if config.get("stats_dir") else None)
    stats.start_writing()
    app = EndpointApp(config["name"], model, config["max_payload"], config["control_port"], stats)
    server = DrainingServer(
        uvicorn.Config(
            app,
            http=DrainingH11,
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_keep_alive=75,
            timeout_graceful_shutdown=30,
            server_header=False,
            proxy_headers=False,  # nothing here reads the client's address: no X-Forwarded-For work per request
        )
    )
    watch_supervisor()
    tell({"ready": True, "pid": os.getpid()})
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
