"""The local cloud daemon: `python -m orchestrator.targets.local.daemon HOME`.

Started detached by client.py, it outlives the command that started it (as a cloud
would), restores the services its state file names, and exits when none are left, or when
its folder is deleted (`rm -rf .orchestrator`): nothing it serves could be managed any more.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

from .. import event_loop
from .cloud import Cloud
from .control import ControlApp
from .home import Home, read_json, write_json_atomic
from .servers import HttpServer, PortInUse, bind

IDLE_GRACE_S = 15.0  # how long a daemon with no services waits for its first one
HOME_CHECK_S = 2.0  # how often the daemon looks whether its folder is still there


def folder_identity(root: Path) -> tuple[int, int] | None:
    """Device and inode of the daemon's folder; None once it is gone. A folder deleted and made
    again (a fresh `run` after `rm -rf`) is another folder: its records are not this daemon's."""
    try:
        found = os.stat(root)
    except FileNotFoundError:
        return None
    return (found.st_dev, found.st_ino)


async def watch_home(home: Home, stop: asyncio.Event, every_s: float = HOME_CHECK_S) -> None:
    """Stop the daemon (and so its services and their processes) once its folder is deleted."""
    identity = folder_identity(home.root)
    while not stop.is_set():
        await asyncio.sleep(every_s)
        if folder_identity(home.root) != identity:
            logging.warning("%s was deleted: stopping every service", home.root)
            stop.set()


def bind_again(port: int | None):
    """The port a previous daemon had, so what was told its address still reaches it; else any."""
    try:
        return bind(port or 0)
    except PortInUse:
        return bind(0)


async def serve(home: Home) -> None:
    token = home.token_file.read_text().strip()
    previous = read_json(home.daemon_file) or read_json(home.ports_file) or {}
    control_sock = bind_again(previous.get("port"))
    s3_sock = bind_again(previous.get("s3_port"))
    control_port, s3_port = control_sock.getsockname()[1], s3_sock.getsockname()[1]
    cloud = Cloud(home, sys.stderr.fileno(), control_port, s3_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    s3 = HttpServer(cloud.s3, s3_sock)
    await s3.start()  # first: restored endpoints and functions read their models and files from it
    await cloud.restore()
    control = ControlApp(cloud, token, stop, IDLE_GRACE_S)
    server = HttpServer(control, control_sock)
    await server.start()
    ports = {"port": control_port, "s3_port": s3_port}
    write_json_atomic(home.ports_file, ports)
    write_json_atomic(home.daemon_file, {"pid": os.getpid(), **ports, "started": time.time()})
    logging.info("local cloud ready: pid %s, control port %s, S3 on port %s", os.getpid(), control_port, s3_port)
    control.watch_idle(IDLE_GRACE_S)
    watcher = asyncio.create_task(watch_home(home, stop))
    await stop.wait()
    watcher.cancel()
    logging.info("stopping")
    await cloud.close()
    await server.stop()
    await s3.stop()
    current = read_json(home.daemon_file) or {}
    if current.get("pid") == os.getpid():
        home.daemon_file.unlink(missing_ok=True)


def raise_open_file_limit() -> tuple[int, int]:
    """Lift the soft limit on open files to the hard one: every service holds up to its own
    connection bound, and 1024 (a common soft default) is less than four of them. Returns (soft, hard)."""
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to raise
        return (0, 0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # a container may forbid it; the bounds per service still hold
    return soft, hard


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m orchestrator.targets.local.daemon HOME", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise_open_file_limit()
    event_loop.run(serve(Home(Path(argv[1]))))
    return 0
