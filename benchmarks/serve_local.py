"""Throughput and latency of the local target's serving paths.

Starts a local cloud with a tiny scikit-learn model, then sends a bounded number of
requests from concurrent threads (one keep-alive httpx client each) to
  (a) the endpoint's /invocations, (b) a direct API route, (c) a Lambda API route,
and prints requests/s, p50 and p99 for each, with ratios to (a).

    python benchmarks/serve_local.py [--requests 2000] [--threads 16]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.spec.models import ApiStep
from orchestrator.targets.local.daemon.client import DaemonClient
from orchestrator.targets.local.daemon.protocol import EndpointRequest
from orchestrator.targets.local.gateway.handler import api_request

HANDLER = """
import os

import boto3

runtime = boto3.client("sagemaker-runtime")


def predict(event, context):
    answer = runtime.invoke_endpoint(EndpointName=os.environ["ENDPOINT_NAME"],
                                     ContentType="application/json", Body=event["body"])
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": answer["Body"].read().decode()}
"""
BODY = b'{"instances": [[0.5, 1.5], [2.5, 0.1]]}'


def build_project(root: Path) -> Path:
    import joblib
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0, 0], [1, 1], [2, 2], [3, 3]], [0, 0, 1, 1])
    files = root / "model"
    files.mkdir()
    joblib.dump(model, files / "model.joblib")
    with tarfile.open(root / "model.tar.gz", "w:gz") as tar:
        tar.add(files / "model.joblib", arcname="model.joblib")
    (root / "handler.py").write_text(textwrap.dedent(HANDLER))
    return root / "model.tar.gz"


def load(url: str, requests: int, threads: int) -> tuple[float, list[float], int]:
    """Send `requests` POSTs from `threads` threads; return elapsed s, latencies, failures."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        mine: list[float] = []
        # TCP_NODELAY as browsers and urllib3 set it: httpx writes headers and body
        # separately, and Nagle + delayed ACK would add 40 ms to every request.
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        with httpx.Client(timeout=60, transport=transport) as http:
            while True:
                with lock:
                    if next(counter, None) is None:
                        break
                start = time.perf_counter()
                reply = http.post(url, content=BODY, headers={"Content-Type": "application/json"})
                mine.append(time.perf_counter() - start)
                if reply.status_code != 200:
                    failures[0] += 1
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - began, latencies, failures[0]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_project(root)
        client = DaemonClient(root / "home")
        try:
            endpoint = client.put("bench", EndpointRequest(model.as_uri(), None, {}))
            api = client.put(
                "bench-api",
                api_request(
                    ApiStep.model_validate(
                        {
                            "type": "api",
                            "routes": [
                                {"method": "POST", "path": "/direct", "integration": "direct", "endpoint": "bench"},
                                {
                                    "method": "POST",
                                    "path": "/lambda",
                                    "integration": "lambda",
                                    "handler": "handler.py:predict",
                                    "endpoint": "bench",
                                },
                            ],
                        }
                    ),
                    root,
                    "us-east-1",
                ),
            )
            targets = {
                "(a) endpoint /invocations": f"http://127.0.0.1:{endpoint.port}/invocations",
                "(b) direct route": f"http://127.0.0.1:{api.port}/prod/direct",
                "(c) lambda route": f"http://127.0.0.1:{api.port}/prod/lambda",
            }
            print(f"{args.requests} requests per path from {args.threads} threads (keep-alive httpx clients)")
            print(f"{'path':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7} {'vs (a)':>7}")
            baseline = None
            for label, url in targets.items():
                load(url, min(200, args.requests), args.threads)  # warm: workers, connections, caches
                elapsed, latencies, failed = load(url, args.requests, args.threads)
                rate = len(latencies) / elapsed
                baseline = baseline or rate
                print(
                    f"{label:28} {rate:8.0f} {percentile(latencies, 50) * 1000:8.1f} "
                    f"{percentile(latencies, 99) * 1000:8.1f} {failed:7d} {rate / baseline:6.2f}x"
                )
        finally:
            client.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
