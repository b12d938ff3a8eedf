"""`logs`: a step's log as its target keeps it (the local cloud's files, or CloudWatch Logs).

A training job's output, an endpoint container's, an api step's access log and its lambda
routes' function logs (their prints and errors, with the request id). The command only
asks the target for a feed and prints what it yields; `--follow` asks again every second
until Ctrl-C, which ends it with exit 0. Nothing is locked or changed.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from ..diagnostics import did_you_mean
from ..errors import EXIT_OK, UsageError
from ..state import open_store
from ..targets.base import LogRequest, pause
from ..validate import validate_file
from .common import make_target

FOLLOW_INTERVAL_S = 1.0
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SINCE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def logs(args, targets) -> int:
    spec = validate_file(args.file, strict_env=False)
    steps = spec.pipeline.steps
    if args.step not in steps:
        raise UsageError(
            f"no step named '{args.step}' in {spec.display}",
            did_you_mean(args.step, steps) or "steps: " + ", ".join(steps),
        )
    step = steps[args.step]
    if args.route is not None and step.type != "api":
        raise UsageError(f"--route is for api steps; '{args.step}' is a {step.type} step", "drop --route")
    store = open_store(spec.pipeline, spec.root, create=False)
    try:
        resource = store.resources().get(args.step)
    finally:
        store.close()
    target_name = args.target or (resource.target if resource and resource.target else spec.pipeline.target)
    target = make_target(target_name, spec, targets, None)
    request = LogRequest(
        spec.pipeline, args.step, dict(resource.outputs) if resource else {}, since(args.since), args.route
    )
    try:
        feed = target.logs(step, request)
        show(feed.poll(), args.json)
        while args.follow:
            pause(getattr(feed, "interval_s", FOLLOW_INTERVAL_S))
            show(feed.poll(), args.json)
    except KeyboardInterrupt:  # --follow ends with Ctrl-C: that is its normal end
        sys.stderr.write("\n")
    except BrokenPipeError:  # `logs ... | head`
        sys.stderr.close()
    finally:
        target.close()
    return EXIT_OK


def since(text: str | None, now: float | None = None) -> float | None:
    """`--since 10m` (s, m, h, d) or an ISO 8601 time, as epoch seconds."""
    if text is None:
        return None
    match = SINCE.match(text.strip())
    if match:
        return (now if now is not None else time.time()) - float(match[1]) * UNITS[match[2]]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text}: not a duration or a time", "give e.g. --since 10m, 2h, 1d or 2026-12-01T09:30"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def show(events: list[dict[str, Any]], as_json: bool) -> None:
    """Each event on one line: JSON lines with --json, else `time source [request id] message`."""
    out = sys.stdout
    for event in events:
        if as_json:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            continue
        moment = datetime.fromtimestamp(event.get("ts", 0), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        request_id = f" [{event['request_id']}]" if event.get("request_id") else ""
        out.write(f"{moment} {event.get('source', '')}{request_id} {event.get('message', '')}\n")
    out.flush()
