"""Which of the local cloud's log files (logbook.py) belong to a step, as a feed for `logs`.

The names come from the step's recorded outputs, else from the names its handler gives
its services, so a training job that failed (nothing recorded) still has its log read.
Reading only: nothing starts, the daemon need not run.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import UsageError
from ..base import LogRequest
from .daemon.protocol import function_name
from .logbook import FileCursor, LocalFeed, log_file
from .training.job_contract import job_name


def training_feed(home: Path, request: LogRequest) -> LocalFeed:
    return job_feed(home, "training", request)


def job_feed(home: Path, kind: str, request: LogRequest) -> LocalFeed:
    """The job that ran last: the recorded one, else the newest of this step's jobs."""
    name = request.outputs.get("job_name")
    if not name:
        stem = job_name(request.pipeline.name, request.step, "")
        folder = home / "logs" / kind
        found = sorted(folder.glob(f"{stem}-*.log"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
        name = found[-1].name.removesuffix(".log") if found else stem
    return LocalFeed([FileCursor(log_file(home, kind, name), kind)], request.since)


def endpoint_feed(home: Path, name: str, request: LogRequest) -> LocalFeed:
    return LocalFeed([FileCursor(log_file(home, "endpoints", name), "endpoint")], request.since)


def api_feed(home: Path, api_id: str, routes: list[tuple[str, str, str]], request: LogRequest) -> LocalFeed:
    """The stage's access log and each lambda route's function log; with a route, that function's only.

    `routes` holds (method, path, integration) of the step's routes.
    """
    lambdas = {
        f"{method} {path}": function_name(api_id, method, path) for method, path, kind in routes if kind == "lambda"
    }
    if request.route is not None:
        key = " ".join(request.route.split())
        method, _, path = key.partition(" ")
        key = f"{method.upper()} {path}"
        if key not in lambdas:
            raise UsageError(
                f"--route {request.route}: no lambda route of step '{request.step}' is {key}",
                "lambda routes: " + (", ".join(lambdas) or "none (direct routes log to the access log)"),
            )
        lambdas = {key: lambdas[key]}
        cursors = []
    else:
        cursors = [FileCursor(log_file(home, "access", api_id), "access")]
    cursors += [FileCursor(log_file(home, "lambdas", name), f"lambda {key}") for key, name in lambdas.items()]
    return LocalFeed(cursors, request.since)
