"""How the local cloud's ports hold up against hostile or broken clients, measured with raw sockets.

Starts a local cloud with a tiny endpoint and a website, then, on each port (the endpoint's,
the daemon's runtime API, the S3 API, the website):
- bodies: the largest accepted and the answer just past SageMaker's limit, and the daemon's
  and the endpoint workers' peak RSS while three 256 MB chunked POSTs stream in at once;
- slow clients: how long a connection lives that sends nothing, half a request head, or a
  head and half its body (capped at --cap seconds);
- connections: how many silent connections a port holds when --connections are opened.
Figures, not a test: it never fails on a slow or large result.

    python benchmarks/abuse_local.py [--cap 40] [--connections 2000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MB = 1024 * 1024


def peak_rss_mb(pid: int) -> float:
    """The process's high-water RSS (VmHWM): a peak between two samples is not missed."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def status_of(answer: bytes) -> int:
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def post(port: int, path: str, size: int, chunked: bool, chunk: int = MB, method: str = "POST") -> tuple[int, str]:
    """POST (or PUT) `size` bytes of filler; (status, what happened) with 0 for no answer."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=120) as conn:
        conn.sendall(head.encode())
        try:
            piece = b" " * chunk
            while sent < size:
                data = piece[: min(chunk, size - sent)]
                conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
                sent += len(data)
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        except OSError as exc:
            note = f"cut off after {sent / MB:.1f} MB sent ({exc.__class__.__name__})"
        else:
            note = "all sent"
        try:
            return status_of(conn.recv(4096)), note
        except OSError as exc:
            return 0, f"{note}; no answer ({exc.__class__.__name__})"


def lifetime(port: int, send: bytes, cap: float) -> float | None:
    """Seconds until the server closes a connection that sent `send` and then nothing; None past cap."""
    with socket.create_connection(("127.0.0.1", port), timeout=cap) as conn:
        started = time.monotonic()
        if send:
            conn.sendall(send)
        try:
            while conn.recv(4096):
                pass
        except TimeoutError:
            return None
        except OSError:
            pass
        return time.monotonic() - started


SLOW = {
    "silent": b"",
    "half a head": b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",
    "half a body": b'POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"instances":',
}


def slow_clients(ports: dict[str, int], cap: float) -> None:
    print(f"\nslow clients: how long the server keeps the connection (capped at {cap:.0f} s)")
    print(f"{'port':18} " + " ".join(f"{kind:>12}" for kind in SLOW))
    results: dict[tuple[str, str], float | None] = {}

    def measure(name: str, kind: str) -> None:
        results[name, kind] = lifetime(ports[name], SLOW[kind], cap)

    threads = [threading.Thread(target=measure, args=(n, k)) for n in ports for k in SLOW]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in ports:
        cells = [results[name, kind] for kind in SLOW]
        print(
            f"{name:18} "
            + " ".join(f"{'>' + format(cap, '.0f') if c is None else format(c, '.1f'):>12}" for c in cells)
        )


def held_connections(port: int, count: int, wait: float) -> dict[str, int]:
    """Open `count` silent connections; after `wait` s, how many the server still holds silently,
    answered (503 past its bound, 408 once timed out), closed, or failed to open."""
    opened, found = [], {"held": 0, "answered": 0, "closed": 0, "failed": 0}
    for _ in range(count):
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            conn.setblocking(False)
            opened.append(conn)
        except OSError:
            found["failed"] += 1
    time.sleep(wait)
    for conn in opened:
        try:
            found["answered" if conn.recv(65536) else "closed"] += 1
        except BlockingIOError:
            found["held"] += 1
        except OSError:
            found["closed"] += 1
        conn.close()
    return found


def bodies(client, ports: dict[str, int], endpoint: str, workers: list[int], skip_memory: bool) -> None:
    daemon = client.info()["pid"]
    print("\nbodies: answer at and past the limit (Content-Length and chunked)")
    runtime = f"/endpoints/{endpoint}/invocations"
    for name, port, path in (
        ("endpoint", ports["endpoint"], "/invocations"),
        ("endpoint runtime", ports["endpoint"], runtime),
        ("daemon runtime", ports["daemon"], runtime),
    ):
        for chunked in (False, True):
            at, _ = post(port, path, 6 * MB, chunked)
            over, note = post(port, path, 6 * MB + 1, chunked)
            kind = "chunked" if chunked else "length"
            print(f"  {name:18} {kind:8} 6 MB -> {at}, 6 MB + 1 -> {over} ({note})")
    if skip_memory:
        return
    print("\nthree 256 MB chunked POSTs at once: peak RSS in MB (before -> peak)")
    for name, port, path, method in (
        ("endpoint", ports["endpoint"], "/invocations", "POST"),
        ("daemon runtime", ports["daemon"], runtime, "POST"),
        ("s3 put", ports["s3"], "/abuse-bucket/big", "PUT"),
        ("website", ports["website"], "/index.html", "POST"),
    ):
        before = {pid: rss_mb(pid) for pid in [daemon, *workers]}
        answers: list[tuple[int, str]] = []

        def upload(port: int = port, path: str = path, method: str = method, answers: list = answers) -> None:
            answers.append(post(port, path, 256 * MB, True, method=method))

        threads = [threading.Thread(target=upload) for _ in range(3)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        peaks = ", ".join(f"{pid}: {before[pid]:.0f} -> {peak_rss_mb(pid):.0f}" for pid in before)
        print(f"  {name:16} answers {sorted(a for a, _ in answers)} in {took:.1f} s; {peaks}")
        print(f"  {'':16} {sorted({note for _, note in answers})}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cap", type=float, default=40.0, help="longest a slow connection is watched (s)")
    parser.add_argument("--connections", type=int, default=2000, help="silent connections opened per port")
    parser.add_argument("--skip-memory", action="store_true", help="no 3 x 256 MB uploads")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + 256)), hard))

    from serve_local import build_model

    from orchestrator.spec.models import WebsiteStep
    from orchestrator.targets.local.daemon.client import DaemonClient
    from orchestrator.targets.local.daemon.protocol import EndpointRequest
    from orchestrator.targets.local.storage.handler import website_request

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root)
        site = root / "site"
        site.mkdir()
        (site / "index.html").write_text("<html><body>hello</body></html>")
        client = DaemonClient(root / "home")
        try:
            endpoint = client.put("abuse", EndpointRequest(model.as_uri(), None, {}))
            step = WebsiteStep(type="website", source=str(site))
            website = client.put("abuse-site", website_request(step, site))
            info = client.info()
            ports = {
                "endpoint": endpoint.port,
                "daemon": info["port"],
                "s3": info["s3_port"],
                "website": website.port,
            }
            import httpx

            httpx.put(f"http://127.0.0.1:{ports['s3']}/abuse-bucket", timeout=30)
            pgid = json.loads(client.home.groups_file.read_text())["abuse"]
            workers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _pgid(p) == pgid]
            bodies(client, ports, "abuse", workers, args.skip_memory)
            slow_clients(ports, args.cap)
            print(f"\nconnections: {args.connections} silent ones opened per port, after 1 s and after 15 s")
            for name, port in ports.items():
                for wait in (1.0, 15.0):
                    print(f"  {name:18} after {wait:4.0f} s: {held_connections(port, args.connections, wait)}")
        finally:
            info = client.info()
            for service, name in (("websites", "abuse-site"), ("endpoints", "abuse")):
                client.delete(service, name)  # with nothing left to serve, the daemon exits
            if info is not None:
                client.wait_stopped(info["pid"], 30)
    return 0


def _pgid(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return -1


if __name__ == "__main__":
    sys.exit(main())
