"""What the endpoint, API and website handlers share: a service of the local cloud daemon.

Each such step is one named service. Its name follows from the spec, so `destroy` finds
what an interrupted run left even when nothing was recorded; its URL answers probes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...spec.models import Pipeline
from ..base import LogRequest, StepContext, StepFailed, StepHandler
from .daemon.client import DaemonClient, DaemonError, Removal
from .daemon.protocol import NEEDS_RUN, NEEDS_RUN_HEADER, PutAnswer, ServiceRequest

PROBE_TIMEOUT_S = 1.0


def probe_url(url: str) -> bool | None:
    """Any HTTP answer means the service is up; a refused connection means it is gone.

    A slow answer (a busy machine) means neither: unknown, so a plan never restarts
    a service that is only busy serving. A restored service that waits for its ${env:...}
    values (its 503 says so) is as good as gone: the next run must put it again.
    """
    import urllib.error  # here, not at the top: plan probes and must start fast
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=PROBE_TIMEOUT_S):
            return True
    except urllib.error.HTTPError as exc:
        return exc.headers.get(NEEDS_RUN_HEADER) is None
    except urllib.error.URLError as exc:
        return None if isinstance(exc.reason, TimeoutError) else False
    except TimeoutError:
        return None
    except (OSError, ValueError):
        return False


def daemon_call(what: str, operation: Callable[..., Any], *args: Any) -> Any:
    """Run a client operation; a daemon that refuses or cannot be reached fails the step."""
    try:
        return operation(*args)
    except DaemonError as exc:
        raise StepFailed(f"{what} failed on the local target", str(exc)) from exc


class ServiceHandler(StepHandler):
    kind: str  # the step kind (spec.kinds)
    service: str  # the daemon's name for this kind of service (protocol.SERVICES)
    noun: str  # how sentences name it
    output: str  # the output that records the service's name
    verb: str  # what applying does to it, e.g. "deploying"

    def __init__(self, client: DaemonClient):
        self.client = client

    def service_name(self, pipeline: str, step_name: str, step: Any) -> str:
        """The name this step's service gets: the same on apply and on a destroy without a record."""
        raise NotImplementedError

    def recorded_name(self, step: Any, request: LogRequest) -> str:
        """The service's name as its last run recorded it, else as this handler names it."""
        return request.outputs.get(self.output) or self.service_name(request.pipeline.name, request.step, step)

    def put(self, name: str, request: ServiceRequest, ctx: StepContext, port: int | None = None) -> PutAnswer:
        """Serve `request` as the service `name`, on `port` if given (else the one it had, or any)."""
        answer = daemon_call(f"{self.verb} {self.noun} {name}", self.client.put, name, request, port, ctx.from_env)
        for notice in answer.notices:
            ctx.reporter.warn(notice)
        return answer

    def destroy(self, ctx: StepContext) -> str:
        # No recorded outputs: the last attempt failed or was interrupted, perhaps after the
        # service came up. Its name follows from the spec, as apply derives it.
        recorded = ctx.previous.outputs.get(self.output) if ctx.previous else None
        step = ctx.pipeline.steps.get(ctx.step)
        derived = self.service_name(ctx.pipeline.name, ctx.step, step) if step and step.type == self.kind else None
        name = recorded or derived
        if not name:
            return f"{self.noun} {ctx.step}: nothing recorded to remove"
        removal = daemon_call(f"removing {self.noun} {name}", self.client.delete, self.service, name)
        if removal is Removal.REMOVED:
            return f"{self.noun} {name} removed"
        if removal is Removal.RECORD_REMOVED:
            return (
                f"{self.noun} {name} removed (the local cloud was not running; "
                "its record is deleted so it will not come back)"
            )
        return f"{self.noun} {name} was already gone" if recorded else f"{self.noun} {name}: nothing was deployed"

    def retire(self, ctx: StepContext) -> str | None:
        """A renamed service: the old name's service goes, as destroy would remove it."""
        return self.destroy(ctx)

    def needs_run(self, name: str | None, status: dict | None = None) -> bool:
        """Did a restarted daemon restore this service without its ${env:...} values? Read-only:
        never starts a daemon (`status`: the daemon's answer, when the caller has it)."""
        try:
            status = status or (self.client.status() if name else None)
        except DaemonError:
            return False
        entry = ((status or {}).get("services", {}).get(self.service) or {}).get(name) or {}
        return entry.get("error") == NEEDS_RUN

    def live(self, outputs) -> dict[str, Any] | None:
        """`status` says what a service restored without its ${env:...} values needs."""
        return {"needs_run": NEEDS_RUN} if self.needs_run(outputs.get(self.output)) else None

    def probe(self, outputs) -> bool | None:
        url = outputs.get("url")
        return probe_url(url) if url else None


def needs_run_notes(client: DaemonClient, pipeline: Pipeline, handlers: Mapping[str, StepHandler]) -> list[str]:
    """One plan note per step whose service a restarted daemon holds without its ${env:...} values."""
    try:
        status = client.status()
    except DaemonError:
        return []
    if status is None:
        return []
    notes = []
    for step_name, step in pipeline.steps.items():
        handler = handlers.get(step.type)
        name = handler.service_name(pipeline.name, step_name, step) if isinstance(handler, ServiceHandler) else None
        if name and handler.needs_run(name, status):
            notes.append(f"{step_name}: {NEEDS_RUN}")
    return notes
