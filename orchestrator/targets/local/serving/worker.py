"""One endpoint worker: `python -m orchestrator.targets.local.serving.worker CONFIG`.

Started by its endpoint's supervisor with the endpoint's listening socket inherited
(shared by every worker of the endpoint, across redeploys), it loads the model as the
inference toolkit does, says `{"ready": ...}` (or `{"error": ...}`) on stdout, and
serves until SIGTERM or until its supervisor goes away (its stdin closes).

A SIGTERM (a redeploy replaced this worker) stops accepting at once; each open
connection gets its next answer with `Connection: close`, and one left idle is closed
after a short grace, so a client in the middle of a keep-alive exchange never sees its
connection dropped under it.
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
from uvicorn.protocols.http.h11_impl import H11Protocol

IDLE_DRAIN_S = 2.0  # an idle keep-alive connection of a draining worker is closed after this


class DrainingH11(H11Protocol):
    """uvicorn's h11 protocol, with a shutdown that lets each open connection finish its exchange."""

    _draining = False

    def shutdown(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self._draining = True
            self.loop.call_later(IDLE_DRAIN_S, self._close_if_idle)
        else:
            self.cycle.keep_alive = False

    def _close_if_idle(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            super().shutdown()

    def handle_events(self) -> None:
        super().handle_events()
        if self._draining and self.cycle is not None:
            self.cycle.keep_alive = False  # this answer is the connection's last


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
        )
    )
    watch_supervisor()
    tell({"ready": True, "pid": os.getpid()})
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
