"""Throughput of the local target's serving paths against a bare one-process server, and memory.

Starts a local cloud with a tiny scikit-learn model (an endpoint with its default
workers, one per core, and an API with a direct and a Lambda route), and a bare
starlette/uvicorn server in one process that serves the same model with the same
handlers (on uvloop, which uvicorn takes when installed, as the local cloud does; a
second one on the standard asyncio loop, as a bare `pip install uvicorn` runs, is shown
for reference). wrk (Debian's `wrk` package) sends POSTs on 32 connections to each for a
fixed time, in rounds (every path once per round, so a shared machine's load weighs
on all of them alike); the table gives requests/s, latency and the ratio to the bare
server of the same round (the median, and the spread over the rounds), and the CPU
each request cost each of the processes that served it (CPU time over requests
answered: it moves far less with the machine's other load than requests/s do).
`--connections 1` gives one connection's latency instead of throughput.
A last row runs only the Lambda handler's own work, its boto3 `invoke_endpoint`, from as
many processes as a function's pool has workers, straight at the endpoint: no gateway
and no Lambda runtime, so it is a ceiling the Lambda route cannot pass on this machine.
Then the memory of each endpoint worker and Lambda worker (RSS, and PSS: its share
of pages shared with others), and with `--example`, the wall time of a first `run`
of examples/churn-xgboost with a cold and then a warm requirements cache.
Figures, not a test: it never fails on a slow result.

    python benchmarks/serve_local.py [--seconds 10] [--connections 32] [--rounds 3] [--example]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
from process_figures import cpu_per_request, cpu_seconds, memory_mb, processes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
BODY = '{"instances": [[0.5, 1.5], [2.5, 0.1]]}'
WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.body = '{BODY}'
wrk.headers["Content-Type"] = "application/json"
"""


def build_model(root: Path) -> Path:
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


def serve_bare(model_dir: str, port: int, loop: str) -> None:
    """One process: starlette + uvicorn around the endpoint workers' own model loading and handlers.
    `loop` is uvicorn's: "auto" takes uvloop when it is installed (as the local cloud does),
    "asyncio" is the standard loop, as a bare `pip install uvicorn` runs."""
    import asyncio

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from orchestrator.targets.local.serving.inference import InvocationContext, load_model

    model = load_model(Path(model_dir), None)

    async def invocations(request: Request) -> Response:
        body = await request.body()
        data, media = await asyncio.to_thread(
            model.invoke,
            body,
            request.headers.get("content-type", "application/json"),
            request.headers.get("accept"),
            InvocationContext(),
        )
        return Response(data, media_type=media)

    async def ping(request: Request) -> Response:
        return Response(b"")

    app = Starlette(routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)])
    uvicorn.run(app, host="127.0.0.1", port=port, loop=loop, access_log=False, log_level="warning")


CALLER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from handler import predict
event, calls = {"body": sys.argv[2]}, 0
predict(event, None)  # connected and warm, as a Lambda worker is after its first request
print("ready", flush=True)
sys.stdin.readline()
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    assert predict(event, None)["statusCode"] == 200
    calls += 1
print(calls, flush=True)
"""


def handler_calls(root: Path, endpoint_port: int, seconds: int, role: dict[int, str]) -> dict:
    """The handler's own calls, from as many processes as a function's pool runs at once."""
    from orchestrator.targets.local.lambdas.pool import MAX_WORKERS as workers

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "ENDPOINT_NAME": "bench",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": f"http://127.0.0.1:{endpoint_port}",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = [sys.executable, "-c", CALLER, str(root), BODY, str(seconds)]
    callers = [
        subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    try:
        for caller in callers:
            if caller.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a caller of the handler failed to start (exit {caller.wait()}): see its stderr")
        role = {**role, **{caller.pid: "caller" for caller in callers}}
        began = cpu_seconds(role)
        for caller in callers:
            caller.stdin.write("go\n")
            caller.stdin.flush()
        time.sleep(seconds)
        spent = cpu_seconds(role)  # before the callers exit and their /proc entries go
        counts = [caller.communicate()[0].strip() for caller in callers]
        if not all(count.isdigit() for count in counts):
            raise RuntimeError("a caller of the handler failed mid-run: see its stderr")
        calls = sum(map(int, counts))
    finally:
        for caller in callers:
            caller.kill()
            caller.wait()
    return {
        "rate": calls / seconds,
        "p50": "-",
        "p99": "-",
        "errors": "0",
        "requests": calls,
        "cpu": cpu_per_request(began, spent, role, calls),
        "label": f"handler's calls alone, {workers} processes",
    }


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def wrk(url: str, seconds: int, connections: int, script: Path) -> dict[str, str]:
    threads = min(connections, os.cpu_count() or 1)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = {
        "rate": re.search(r"Requests/sec:\s+([\d.]+)", out),
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M),
        "errors": re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out),
        "requests": re.search(r"(\d+) requests in", out),
    }
    return {key: (match.group(1) if match else "0") for key, match in found.items()}


def roles(client, endpoint: str, bare: int) -> dict[int, str]:
    """Which process serves which part of a request: the bare server, the daemon (gateway),
    the endpoint's processes, the Lambda workers."""
    import json

    pgid = json.loads(client.home.groups_file.read_text())[endpoint]
    daemon = client.info()["pid"]
    found = {bare: "bare", daemon: "daemon"}
    for pid, parent, group, command in processes():
        if group == pgid:
            found[pid] = "endpoint"
        elif parent == daemon and "bootstrap.py" in command:
            found[pid] = "lambda"
    return found


def report_memory(client, endpoint: str) -> None:
    role = roles(client, endpoint, -1)
    rows = [
        (kind, pid, Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
        for pid, kind in role.items()
        if kind in ("endpoint", "lambda")
    ]
    print(f"\n{'process':30} {'RSS MB':>8} {'PSS MB':>8}")
    for kind, pid, command in sorted(rows):
        role = "supervisor" if "supervisor" in command else "worker"
        rss, pss = memory_mb(pid)
        print(f"{kind + ' ' + role + f' ({pid})':30} {rss:8.1f} {pss:8.1f}")


def serving(args: argparse.Namespace) -> None:
    from orchestrator.spec.models import ApiStep
    from orchestrator.targets.local.daemon.client import DaemonClient
    from orchestrator.targets.local.daemon.protocol import EndpointRequest
    from orchestrator.targets.local.gateway.handler import api_request

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root)
        script = root / "post.lua"
        script.write_text(WRK_SCRIPT)
        port = free_port()
        bare = subprocess.Popen([sys.executable, __file__, "--bare", str(root / "model"), str(port), "auto"])
        plain_port = free_port()
        plain = [sys.executable, __file__, "--bare", str(root / "model"), str(plain_port), "asyncio"]
        plain_bare = subprocess.Popen(plain)
        client = DaemonClient(root / "home")
        try:
            endpoint = client.put("bench", EndpointRequest(model.as_uri(), None, {}))
            route = {"method": "POST", "path": "/lambda", "integration": "lambda", "handler": "handler.py:predict"}
            direct = {"method": "POST", "path": "/direct", "integration": "direct", "endpoint": "bench"}
            # a stage throttle far above the load, so API Gateway's token bucket (enforced) does not shape the figures
            throttling = {"rate_limit": 1_000_000, "burst_limit": 1_000_000}
            routes = [direct, {**route, "endpoint": "bench"}]
            step = ApiStep.model_validate({"type": "api", "routes": routes, "throttling": throttling})
            api = client.put("bench-api", api_request(step, root, "us-east-1", root / "bundles"))
            wait_for(f"http://127.0.0.1:{port}/ping")
            wait_for(f"http://127.0.0.1:{plain_port}/ping")
            targets = {
                "bare starlette, 1 process": f"http://127.0.0.1:{port}/invocations",
                "bare, standard asyncio loop": f"http://127.0.0.1:{plain_port}/invocations",
                f"endpoint ({os.cpu_count()} workers)": f"http://127.0.0.1:{endpoint.port}/invocations",
                "direct API route": f"http://127.0.0.1:{api.port}/prod/direct",
                "lambda API route": f"http://127.0.0.1:{api.port}/prod/lambda",
            }
            print(
                f"wrk, {args.connections} connections, {args.seconds} s per path and round, "
                f"{args.rounds} rounds, after a 2 s warm-up; the machine has {os.cpu_count()} cores"
            )
            for url in targets.values():
                wrk(url, 2, args.connections, script)
            rounds: dict[str, list[dict]] = {label: [] for label in targets}
            for _ in range(args.rounds):
                role = roles(client, "bench", bare.pid)  # a Lambda worker may have been replaced
                role[plain_bare.pid] = "bare"
                baseline = None
                for label, url in targets.items():
                    began = cpu_seconds(role)
                    result = wrk(url, args.seconds, args.connections, script)
                    rate = float(result["rate"])
                    baseline = baseline or rate
                    cpu = cpu_per_request(began, cpu_seconds(role), role, int(result["requests"]))
                    rounds[label].append({**result, "rate": rate, "ratio": rate / baseline, "cpu": cpu})
                alone = handler_calls(root, endpoint.port, args.seconds, role)
                rounds.setdefault(alone.pop("label"), []).append({**alone, "ratio": alone["rate"] / baseline})
            print(f"{'path':36} {'req/s':>8} {'p50':>9} {'p99':>9} {'non-2xx':>8} {'vs bare':>8} {'spread':>11}")
            for label, runs in rounds.items():
                middle = sorted(runs, key=lambda run: run["ratio"])[len(runs) // 2]
                ratios = [run["ratio"] for run in runs]
                print(
                    f"{label:36} {statistics.median(run['rate'] for run in runs):8.0f} {middle['p50']:>9} "
                    f"{middle['p99']:>9} {sum(int(run['errors']) for run in runs):8} "
                    f"{statistics.median(ratios):7.2f}x {min(ratios):5.2f}-{max(ratios):.2f}"
                )
            print("\nCPU ms per request answered, by process (median of the rounds):")
            for label, runs in rounds.items():
                names = sorted({name for run in runs for name in run["cpu"]})
                parts = {name: statistics.median(run["cpu"].get(name, 0.0) for run in runs) for name in names}
                parts = {name: ms for name, ms in parts.items() if ms >= 0.01}  # idle ones: housekeeping only
                shown = " + ".join(f"{name} {ms:.2f}" for name, ms in parts.items())
                print(f"  {label:36} {shown} = {sum(parts.values()):.2f}")
            report_memory(client, "bench")
        finally:
            info = client.info()
            for service, name in (("apis", "bench-api"), ("endpoints", "bench")):
                client.delete(service, name)  # with nothing left to serve, the daemon exits
            if info is not None:
                client.wait_stopped(info["pid"], 30)
            for server in (bare, plain_bare):
                server.terminate()
                server.wait(timeout=30)


def timed_run(project: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    ran = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "pipeline.yaml"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - began
    subprocess.run(
        [sys.executable, "-m", "orchestrator", "destroy", "pipeline.yaml"], cwd=project, env=env, capture_output=True
    )
    if ran.returncode != 0:
        raise RuntimeError(f"run failed:\n{ran.stdout}{ran.stderr}")
    return elapsed


def example_runs() -> None:
    """First runs of the churn example: every cache empty (uv's too), then the requirements cached."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update({"ORCHESTRATOR_CACHE_DIR": str(root / "cache"), "UV_CACHE_DIR": str(root / "uv-cache")})
        print("\nfirst `run` of examples/churn-xgboost (a fresh copy each time):")
        for label in ("cold requirements cache", "warm requirements cache"):
            project = root / label.split()[0]
            shutil.copytree(ROOT / "examples" / "churn-xgboost", project)
            print(f"  {label:26} {timed_run(project, env):6.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="times each path is measured, in turn")
    parser.add_argument("--example", action="store_true", help="also time the churn example's first runs")
    parser.add_argument("--bare", nargs=3, metavar=("MODEL_DIR", "PORT", "LOOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        serve_bare(args.bare[0], int(args.bare[1]), args.bare[2])
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    serving(args)
    if args.example:
        example_runs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
