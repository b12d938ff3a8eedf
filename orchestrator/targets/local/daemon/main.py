"""The local cloud daemon: `python -m orchestrator.targets.local.daemon HOME`.

Started detached by client.py, it outlives the command that started it (as a cloud
would), restores the services its state file names, and exits when none are left.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

from .cloud import Cloud
from .control import ControlApp
from .home import Home, read_json, write_json_atomic
from .servers import HttpServer, PortInUse, bind

IDLE_GRACE_S = 15.0  # how long a daemon with no services waits for its first one


async def serve(home: Home) -> None:
    token = home.token_file.read_text().strip()
    previous = read_json(home.daemon_file) or {}
    try:
        control_sock = bind(previous.get("port") or 0)
    except PortInUse:
        control_sock = bind(0)
    control_port = control_sock.getsockname()[1]
    cloud = Cloud(home, sys.stderr.fileno(), control_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await cloud.restore()
    control = ControlApp(cloud, token, stop, IDLE_GRACE_S)
    server = HttpServer(control, control_sock)
    await server.start()
    write_json_atomic(home.daemon_file, {"pid": os.getpid(), "port": control_port, "started": time.time()})
    logging.info("local cloud ready: pid %s, control port %s", os.getpid(), control_port)
    control.watch_idle(IDLE_GRACE_S)
    await stop.wait()
    logging.info("stopping")
    await cloud.close()
    await server.stop()
    current = read_json(home.daemon_file) or {}
    if current.get("pid") == os.getpid():
        home.daemon_file.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m orchestrator.targets.local.daemon HOME", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(Home(Path(argv[1]))))
    return 0
