"""SageMaker endpoints, as the daemon sees them: named ports, each served by a process group.

The registry deploys and swaps groups (group.py), and reaches an endpoint over HTTP
for the gateway's direct routes and for the runtime API of the daemon's own port,
with keep-alive connections. The model itself only ever runs in the endpoint's workers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from ..asgi import Request, respond, respond_json
from ..daemon.home import read_json, write_json_atomic
from ..daemon.protocol import RUNTIME_PREFIX, RUNTIME_SUFFIX, EndpointRequest, EndpointStats
from ..daemon.servers import bind
from ..logbook import LogWriter, Redactor, log_file
from .app import CUSTOM_ATTRIBUTES, FORWARDED, INVOCATION_TIMEOUT_S, limited_body, runtime_error, unknown_endpoint
from .autoscaler import Autoscaler, bounds
from .group import (
    PAYLOAD_LIMITS,
    EndpointGroup,
    endpoint_environment,
    kill_leftover_groups,
    prepare_model,
    worker_count,
)
from .http_client import ConnectFailed, HttpClient
from .inference import InvocationError
from .stats import merged, percentile

log = logging.getLogger("orchestrator.local.endpoint")


class UnknownEndpoint(Exception):
    def __init__(self, name: str):
        super().__init__(unknown_endpoint(name))
        self.name = name


class InvocationTimeout(Exception):
    """The model took longer than the invocation timeout (60 s, or a route's own)."""


@dataclass
class Answer:
    body: bytes
    content_type: str
    custom_attributes: str | None


@dataclass
class Endpoint:
    """A named endpoint: its socket stays while groups come and go on it."""

    name: str
    port: int
    sock: socket.socket
    group: EndpointGroup
    retired: list[EndpointGroup] = field(default_factory=list)  # replaced groups still draining


class EndpointRegistry:
    def __init__(self, models_dir: Path, groups_file: Path, logs_root: Path, control_port: int, s3_url: str):
        self.models_dir = models_dir
        self.groups_file = groups_file
        self.logs_root = logs_root  # each endpoint's container output goes to its own log (logbook.py)
        self.control_port = control_port
        self.s3_url = s3_url
        self.endpoints: dict[str, Endpoint] = {}
        self.scalers: dict[str, Autoscaler] = {}
        self.client = HttpClient()
        self._background: set[asyncio.Task] = set()
        kill_leftover_groups(list((read_json(groups_file) or {}).values()))  # a killed daemon's
        self._record_groups()

    def _record_groups(self) -> None:
        try:
            write_json_atomic(self.groups_file, {name: e.group.pgid for name, e in self.endpoints.items()})
        except FileNotFoundError:  # the state folder was deleted: the daemon is stopping every group
            if self.groups_file.parent.is_dir():
                raise

    def port_of(self, name: str) -> int | None:
        endpoint = self.endpoints.get(name)
        return endpoint.port if endpoint else None

    async def deploy(self, name: str, spec: EndpointRequest, model_file: str, port: int | None) -> int:
        """Serve `spec` as `name`; what served before keeps serving until the new group is ready."""
        work_dir = self.models_dir / name / uuid.uuid4().hex[:12]
        existing = self.endpoints.get(name)
        try:
            model_dir, inference = await asyncio.to_thread(prepare_model, spec, model_file, work_dir)
            sock = existing.sock if existing else bind(port or 0)
        except BaseException:
            shutil.rmtree(work_dir, ignore_errors=True)
            raise
        port = sock.getsockname()[1]
        workers = bounds(spec.autoscaling)[0] if spec.autoscaling else worker_count(spec.environment)
        config = {
            "name": name,
            "workers": workers,
            "model_dir": str(model_dir),
            "inference": str(inference) if inference else None,
            "framework": spec.framework,
            "max_payload": PAYLOAD_LIMITS[spec.serverless],
            "control_port": self.control_port,
            "stats_dir": str(self.stats_dir(name)),  # kept across redeploys: counts are the endpoint's
        }
        env = endpoint_environment(spec, name, port, workers, self.s3_url, inference)
        try:
            log = LogWriter(log_file(self.logs_root, "endpoints", name), Redactor(spec.environment.values()))
            group = await EndpointGroup.start(name, sock, config, env, work_dir, log)
        except BaseException:
            shutil.rmtree(work_dir, ignore_errors=True)
            if existing is None:
                sock.close()
            raise
        if existing is None:
            self.endpoints[name] = Endpoint(name, port, sock, group)
        else:
            old, existing.group = existing.group, group
            existing.retired.append(old)
            await old.begin_drain()  # from here on, every new request reaches the new model
            self._in_background(self._retire(existing, old))
        self._record_groups()
        self._follow_traffic(name, spec)
        return port

    def _follow_traffic(self, name: str, spec: EndpointRequest) -> None:
        """With autoscaling, a worker count that follows the request rate (autoscaler.py)."""
        old = self.scalers.pop(name, None)
        if old is not None:
            old.stop()
        if spec.autoscaling is None:
            return
        self.scalers[name] = Autoscaler(
            name,
            spec.autoscaling,
            requests=lambda: merged(self.stats_dir(name))["requests"],
            workers=lambda: len(self.endpoints[name].group.workers),
            scale=lambda count: self.endpoints[name].group.scale(count),
        )

    def _in_background(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)  # a task nobody references may be collected
        task.add_done_callback(self._background.discard)

    async def _retire(self, endpoint: Endpoint, old: EndpointGroup) -> None:
        await old.stop()
        if old in endpoint.retired:
            endpoint.retired.remove(old)
        if self.models_dir in old.model_dir.parents:
            shutil.rmtree(old.model_dir, ignore_errors=True)

    async def remove(self, name: str) -> bool:
        scaler = self.scalers.pop(name, None)
        if scaler is not None:
            scaler.stop()
        endpoint = self.endpoints.pop(name, None)
        if endpoint is None:
            return False
        endpoint.sock.close()  # no new connection is accepted: the port refuses from now on
        await asyncio.gather(endpoint.group.stop(), *(group.stop() for group in endpoint.retired))
        self._record_groups()
        shutil.rmtree(self.models_dir / name, ignore_errors=True)
        return True

    async def invoke(
        self,
        name: str,
        body: bytes,
        content_type: str,
        accept: str | None,
        custom_attributes: str | None = None,
        timeout: float = INVOCATION_TIMEOUT_S,
    ) -> Answer:
        """The container's /invocations on the endpoint's port (the gateway's direct integration)."""
        port = self.port_of(name)
        if port is None:
            raise UnknownEndpoint(name)
        headers = [("content-type", content_type)]
        if accept:
            headers.append(("accept", accept))
        if custom_attributes is not None:
            headers.append((CUSTOM_ATTRIBUTES, custom_attributes))
        try:
            async with asyncio.timeout(timeout):  # awaited inline: wait_for would start a task per request
                answer = await self.client.request(port, "POST", "/invocations", headers, body)
        except TimeoutError as exc:
            raise InvocationTimeout(name) from exc
        except ConnectFailed as exc:
            raise UnknownEndpoint(name) from exc
        if answer.status == 504:
            raise InvocationTimeout(name)
        if answer.status != 200:
            try:
                message = json.loads(answer.body)["message"]
            except (ValueError, KeyError, TypeError):
                message = answer.body.decode("utf-8", "replace")
            raise InvocationError(answer.status, message)
        return Answer(
            answer.body, answer.header("content-type", "application/octet-stream"), answer.header(CUSTOM_ATTRIBUTES)
        )

    def stats_dir(self, name: str) -> Path:
        return self.models_dir / name / "stats"

    def status(self, name: str) -> dict:
        endpoint = self.endpoints.get(name)
        return {
            "workers": endpoint.group.workers if endpoint else [],
            "pgid": endpoint.group.pgid if endpoint else None,
        }

    def stats(self, name: str) -> EndpointStats | None:
        """What the endpoint's workers counted since it was deployed; None for one not served here."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            return None
        total = merged(self.stats_dir(name))
        return EndpointStats(
            workers=len(endpoint.group.workers),
            requests=total["requests"],
            errors=total["errors"],
            p50_ms=percentile(total["buckets"], 0.50),
            p99_ms=percentile(total["buckets"], 0.99),
            since=total["started"],
        )

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*(self.remove(name) for name in list(self.endpoints)))
        self.client.close()


class RuntimeApi:
    """The runtime API on a port that hosts no endpoint (the daemon's): forwarded to the endpoint's port."""

    def __init__(self, registry: EndpointRegistry):
        self.registry = registry

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"]
        name = unquote(path[len(RUNTIME_PREFIX) : -len(RUNTIME_SUFFIX)]) if path.endswith(RUNTIME_SUFFIX) else ""
        # The largest of SageMaker's limits, refused before buffering; a serverless endpoint refuses
        # what passes its own 4 MB itself.
        body = await limited_body(Request.from_scope(scope), receive, send, max(PAYLOAD_LIMITS.values()), runtime=True)
        if body is None:
            return
        port = self.registry.port_of(name)
        if port is not None:
            headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
            try:
                answer = await self.registry.client.request(
                    port, "POST", path, [(k, v) for k, v in headers if k in FORWARDED], body
                )
            except ConnectFailed:
                pass
            else:
                kept = [
                    (k, v) for k, v in answer.headers if k not in ("content-length", "connection", "date", "server")
                ]
                await respond(send, answer.status, answer.body, kept)
                return
        status, payload, headers = runtime_error("ValidationError", 400, unknown_endpoint(name))
        await respond_json(send, status, payload, [*headers, ("x-amzn-requestid", str(uuid.uuid4()))])
