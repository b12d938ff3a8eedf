"""`logs` on the aws target: CloudWatch Logs, where SageMaker, Lambda and API Gateway write.

Each step's log groups are named the way AWS names them: a training job's streams
`<job>/algo-1-...` in `/aws/sagemaker/TrainingJobs`, an endpoint's in
`/aws/sagemaker/Endpoints/<name>`, a Lambda route's in `/aws/lambda/<function>` (the
Pulumi program names the function and its group alike), and the stage's access log in
ACCESS_LOG_GROUP. Reads go through the counted client (FilterLogEvents, every page);
each poll asks from the newest time it has seen and drops the events it already showed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import UsageError
from ...spec.models import ApiStep, EndpointStep
from ..base import LogRequest, TargetError
from .client import AwsCallFailed, AwsClient
from .web.program.naming import ACCESS_LOG_GROUP, logical_name

TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
PROCESSING_GROUP = "/aws/sagemaker/ProcessingJobs"  # streams <job>/algo-1-<time>, as training's
ENDPOINT_GROUP = "/aws/sagemaker/Endpoints/{name}"
LAMBDA_GROUP = "/aws/lambda/{function}"
MAX_PAGES = 100  # of one poll (10,000 events at most per page): a huge backlog is shown in parts


@dataclass
class Source:
    """One log group (and stream prefix) of a step, and what of it was already shown."""

    group: str
    label: str
    prefix: str | None = None
    start_ms: int = 0
    seen: set[str] = field(default_factory=set)  # event ids at start_ms, shown already
    missing: bool = False


@dataclass
class CloudWatchFeed:
    client: AwsClient
    sources: list[Source]
    optional: frozenset[str] = frozenset()  # groups that may not exist (the access log, until enabled)
    started: bool = False
    page_size: int | None = None  # FilterLogEvents' `limit` (None: its default, up to 10,000 events)
    interval_s: float = 5.0  # between polls of --follow: FilterLogEvents is limited to 5 calls a second per account

    def poll(self) -> list[dict[str, Any]]:
        events = [event for source in self.sources for event in self._read(source)]
        if not self.started:
            self.started = True
            required = [s for s in self.sources if s.group not in self.optional]
            if required and all(s.missing for s in required):
                names = ", ".join(s.group for s in required)
                raise TargetError(
                    f"CloudWatch Logs has no log group {names} in {self.client.region}",
                    "nothing has been logged yet: the step may not have run on aws, or its logs expired",
                )
        events.sort(key=lambda e: e["ts"])
        return events

    def _read(self, source: Source) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"logGroupName": source.group, "startTime": source.start_ms}
        if source.prefix:
            params["logStreamNamePrefix"] = source.prefix
        if self.page_size:
            params["limit"] = self.page_size
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            try:
                page = self.client.call("logs", "FilterLogEvents", **params)
            except AwsCallFailed as exc:
                if exc.code == "ResourceNotFoundException":
                    source.missing = True
                    return []
                raise
            found.extend(page.get("events", []))
            token = page.get("nextToken")
            if not token:
                break
            params["nextToken"] = token
        source.missing = False
        if source.prefix:  # as asked; moto's server ignores logStreamNamePrefix, so it is held here too
            found = [e for e in found if str(e.get("logStreamName", "")).startswith(source.prefix)]
        fresh = [e for e in found if e.get("eventId") not in source.seen]
        if fresh:
            newest = max(e["timestamp"] for e in fresh)
            if newest > source.start_ms:
                source.start_ms, source.seen = newest, set()
            source.seen.update(e["eventId"] for e in fresh if e["timestamp"] == newest)
        return [_event(e, source.label) for e in fresh]


def _event(raw: dict[str, Any], label: str) -> dict[str, Any]:
    message = str(raw.get("message", "")).rstrip("\n")
    event: dict[str, Any] = {"ts": raw["timestamp"] / 1000, "message": message, "source": label}
    request_id = _lambda_request_id(message)
    if request_id:
        event["request_id"] = request_id
    if raw.get("logStreamName"):
        event["stream"] = raw["logStreamName"]
    return event


def _lambda_request_id(message: str) -> str | None:
    """Lambda's START/END/REPORT lines and its text-format log lines name the invocation."""
    for marker in ("START RequestId: ", "END RequestId: ", "REPORT RequestId: "):
        if message.startswith(marker):
            return message[len(marker) :].split()[0]
    parts = message.split("\t")
    if len(parts) >= 3 and parts[0].startswith("[") and len(parts[2]) == 36:  # [LEVEL]\ttime\trequest-id\t...
        return parts[2]
    return None


def _feed(client: AwsClient, request: LogRequest, sources: list[Source], optional=frozenset()) -> CloudWatchFeed:
    start_ms = int(request.since * 1000) if request.since is not None else 0
    for source in sources:
        source.start_ms = start_ms
    return CloudWatchFeed(client, sources, frozenset(optional))


def _job_feed(group: str, kind: str) -> Callable[[AwsClient, Any, LogRequest], CloudWatchFeed]:
    """A SageMaker job's streams (`<job>/algo-1-...` in its kind's group), by its recorded name."""

    def feed(client: AwsClient, step: Any, request: LogRequest) -> CloudWatchFeed:
        job = request.outputs.get("job_name")
        if not job:
            raise TargetError(
                f"step '{request.step}' has no {kind} job recorded on aws",
                "run it first: its job's log is read by the job's name",
            )
        return _feed(client, request, [Source(group, kind, prefix=f"{job}/")])

    return feed


training_feed = _job_feed(TRAINING_GROUP, "training")
processing_feed = _job_feed(PROCESSING_GROUP, "processing")


def endpoint_feed(client: AwsClient, step: EndpointStep, request: LogRequest) -> CloudWatchFeed:
    name = request.outputs.get("endpoint_name")
    if not name:
        raise TargetError(
            f"step '{request.step}' has no endpoint recorded on aws", "deploy it first: python -m orchestrator run"
        )
    return _feed(client, request, [Source(ENDPOINT_GROUP.format(name=name), "endpoint")])


def api_feed(client: AwsClient, step: ApiStep, request: LogRequest) -> CloudWatchFeed:
    """The stage's access log and its lambda routes' function logs; with `request.route`, that one's only."""
    pipeline = request.pipeline.name
    lambdas = {
        f"{route.method} {route.path}": LAMBDA_GROUP.format(
            function=logical_name(pipeline, step.stage, f"{route.method} {route.path}")
        )
        for route in step.routes
        if route.integration == "lambda"
    }
    sources = []
    if request.route is not None:
        method, _, path = " ".join(request.route.split()).partition(" ")
        key = f"{method.upper()} {path}"
        if key not in lambdas:
            raise UsageError(
                f"--route {request.route}: no lambda route of step '{request.step}' is {key}",
                "lambda routes: " + (", ".join(lambdas) or "none"),
            )
        lambdas = {key: lambdas[key]}
    else:
        sources.append(Source(ACCESS_LOG_GROUP.format(pipeline=pipeline, stage=step.stage), "access"))
    sources += [Source(group, f"lambda {key}") for key, group in lambdas.items()]
    return _feed(client, request, sources, optional={s.group for s in sources if s.label == "access"})


# Where each kind's log is; kinds not here keep none.
FEEDS: dict[str, Callable[[AwsClient, Any, LogRequest], CloudWatchFeed]] = {
    "training": training_feed,
    "processing": processing_feed,
    "endpoint": endpoint_feed,
    "api": api_feed,
}


def feed_for(client: AwsClient, step: Any, request: LogRequest) -> CloudWatchFeed:
    try:
        make = FEEDS[step.type]
    except KeyError:
        raise TargetError(
            f"step '{request.step}' keeps no log on aws", "logs reads training, processing, endpoint and api steps"
        ) from None
    return make(client, step, request)
