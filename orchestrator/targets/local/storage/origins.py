"""The port a local website keeps, settled before the site is first published.

A site's origin (`http://127.0.0.1:PORT`) is an output other steps read before the site
runs: an API's CORS names it while the site's page calls that API. So the port is told
first and kept: the daemon's record of the site once it serves it, else the reservation
made when a run first needed the origin (`reserved_ports.json` in the local cloud's home),
which publishing then asks the daemon for. Destroying the site releases it.
"""

from __future__ import annotations

import socket
import threading

from ..daemon.home import Home, read_json, write_json_atomic
from ..daemon.protocol import HOST, ProtocolError, local_url, read_services

_LOCK = threading.Lock()  # steps run in threads; two sites must not both rewrite the file from one read


def reservations_file(home: Home):
    return home.root / "reserved_ports.json"


def site_origin(port: int) -> str:
    """What a browser sends as Origin for a page of this site: scheme://host:port, no path."""
    return local_url(port)


def recorded_port(home: Home, bucket: str) -> int | None:
    """The port the daemon serves (or will restore) the site on, read from its record."""
    try:
        services = read_services(home.state_file)
    except (OSError, ProtocolError):
        return None  # a record the daemon does not restore either: as if there were none
    entry = (services or {}).get("websites", {}).get(bucket)
    port = entry.get("port") if isinstance(entry, dict) else None
    return port if isinstance(port, int) else None


def reserved_port(home: Home, bucket: str) -> int | None:
    port = (read_json(reservations_file(home)) or {}).get(bucket)
    return port if isinstance(port, int) else None


def known_port(home: Home, bucket: str) -> int | None:
    """The site's port if it is decided: recorded by the daemon, else reserved by a run."""
    return recorded_port(home, bucket) or reserved_port(home, bucket)


def settle_port(home: Home, bucket: str) -> int:
    """The site's port, reserving a free one now if none is decided yet."""
    with _LOCK:
        port = known_port(home, bucket)
        if port is not None:
            return port
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
        reserved = read_json(reservations_file(home)) or {}
        home.ensure()  # a first run settles the port before the local cloud has started
        write_json_atomic(reservations_file(home), {**reserved, bucket: port})
        return port


def release(home: Home, bucket: str) -> None:
    """The site is gone: its next creation may take any port."""
    with _LOCK:
        reserved = read_json(reservations_file(home)) or {}
        if bucket in reserved:
            del reserved[bucket]
            write_json_atomic(reservations_file(home), reserved)
