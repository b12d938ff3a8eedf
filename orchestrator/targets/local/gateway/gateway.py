"""An API Gateway REST API stage: routes, Lambda proxy and direct integrations, CORS, edges.

Error answers use API Gateway's shapes and status codes so clients written against
the real thing behave the same here.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..asgi import BodyTooLarge, Request, drain, json_body, read_body, respond, respond_json
from ..daemon.protocol import ApiRequest, LambdaCode, RouteRequest, function_name
from ..lambdas.environment import lambda_environment
from ..lambdas.pool import BOOTSTRAP, FunctionPool, FunctionSpec, LambdaFailed, LambdaTimeout
from ..logbook import LogWriter, Redactor, log_file
from ..serving.endpoint import EndpointRegistry, InvocationTimeout, UnknownEndpoint
from ..serving.inference import InvocationError
from ..storage.access import Access, Credentials
from .cors import CorsPolicy
from .proxy_event import MalformedResult, build_event, read_result
from .routing import Router

log = logging.getLogger("orchestrator.local.gateway")
MAX_PAYLOAD = 10 * 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # past this a client is cut off rather than read to the end
INTERNAL_ERROR = "Internal server error"
TIMED_OUT = "Endpoint request timed out"
# What the client sees when an integration fails; the log gets the reason.
INTEGRATION_FAILURES_ANSWER = {
    LambdaTimeout: (504, TIMED_OUT),
    InvocationTimeout: (504, TIMED_OUT),
    LambdaFailed: (502, INTERNAL_ERROR),
    MalformedResult: (502, INTERNAL_ERROR),
    UnknownEndpoint: (502, INTERNAL_ERROR),
}
INTEGRATION_FAILURES = tuple(INTEGRATION_FAILURES_ANSWER)


@dataclass
class Binding:
    """A route and what serves it."""

    route: RouteRequest
    pool: FunctionPool | None = None


class Gateway:
    """The ASGI app for one API's port; `/{stage}/...` is routed, everything else is 403."""

    def __init__(
        self,
        api_id: str,
        spec: ApiRequest,
        endpoints: EndpointRegistry,
        runtime_url: Callable[[str], str],
        logs_root: Path,
        s3_url: str,
        access: Access,
    ):
        self.api_id = api_id
        self.spec = spec
        self.endpoints = endpoints
        self.prefix = f"/{spec.stage}"
        self.router: Router[Binding] = Router()
        self.pools: list[FunctionPool] = []
        self._inflight = 0  # requests inside this gateway, from first byte to last
        self.access = access
        self.credentials: list[Credentials] = []
        redact = Redactor(value for route in spec.routes for value in route.environment.values())
        self.access_log = LogWriter(log_file(logs_root, "access", api_id), redact)
        for route in spec.routes:
            binding = Binding(route)
            if route.integration == "lambda" and route.code is not None:
                function = self._function(route, route.code, runtime_url, s3_url)
                own_log = LogWriter(log_file(logs_root, "lambdas", function.name), Redactor(route.environment.values()))
                binding.pool = FunctionPool(function, own_log)
                self.pools.append(binding.pool)
            self.router.add(route.method, route.path, binding)
        self.cors = CorsPolicy(spec.cors, {r.method for r in spec.routes})

    def _function(
        self, route: RouteRequest, code: LambdaCode, runtime_url: Callable[[str], str], s3_url: str
    ) -> FunctionSpec:
        """A lambda route's function: its code, and an environment of its own with its own credentials."""
        name = function_name(self.api_id, route.method, route.path)
        credentials = self.access.issue(name, code.s3_read)
        self.credentials.append(credentials)
        own = {
            **route.environment,
            "ENDPOINT_NAME": route.endpoint,
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": runtime_url(route.endpoint),
        }
        environment = lambda_environment(
            function=name,
            handler=code.handler,
            task_root=Path(code.bundle),
            runtime_dir=BOOTSTRAP.parent,
            runtime=code.runtime,
            memory_mb=route.memory_mb,
            region=self.spec.region,
            credentials=credentials,
            s3_url=s3_url,
            own=own,
        )
        return FunctionSpec(name, Path(code.bundle), code.layers, route.memory_mb, environment)

    def warm(self) -> None:
        """Start each function's first worker in the background, one at a time so the
        machine stays responsive; a request that comes first starts its own worker."""

        async def one_by_one() -> None:
            for pool in self.pools:
                await pool.warm_quietly()

        self._warming = asyncio.get_running_loop().create_task(one_by_one())

    async def close(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self.pools))
        for credentials in self.credentials:
            self.access.revoke(credentials)

    async def drain(self, grace_s: float = 30.0) -> None:
        """Stop after the requests already inside are answered (a redeploy replaced this
        gateway; new requests reach the new one). Counted here, not in the pools, so a
        request still reading its body or routing is waited for too."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while self._inflight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await self.close()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        self._inflight += 1
        started, answered = time.monotonic(), {"status": 0, "request_id": None}

        async def watched(message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                headers = dict(message.get("headers") or ())
                answered["request_id"] = headers.get(b"x-amzn-requestid", b"").decode("latin-1") or None
            await send(message)

        try:
            await self._serve(scope, receive, watched)
        finally:
            self._inflight -= 1
            self._access(scope, answered, started)

    def _access(self, scope, answered: dict, started: float) -> None:
        """One line of the stage's access log, with API Gateway's $context fields: method, path, status, latency."""
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        method, path, status = scope["method"], scope["path"], answered["status"]
        self.access_log.write(
            f"{method} {path} {status} {latency_ms} ms",
            answered["request_id"],
            method=method,
            path=path,
            status=status,
            latency_ms=latency_ms,
        )

    async def _serve(self, scope, receive, send) -> None:
        request = Request.from_scope(scope)
        request_id = str(uuid.uuid4())
        cors = self.cors.response_headers(request.header("origin"))
        base_headers = [("x-amzn-requestid", request_id), *cors]

        async def error(status: int, message: str, error_type: str | None = None) -> None:
            headers = list(base_headers)
            if error_type:
                headers.append(("x-amzn-errortype", error_type))
            await respond_json(send, status, {"message": message}, headers)

        path = self._stage_path(request.path)
        found = self.router.resource_for(path) if path is not None else None
        if found is None:
            await error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
            return
        resource, params = found
        if request.method == "OPTIONS" and self.cors.enabled and "OPTIONS" not in resource.methods:
            preflight = self.cors.preflight_headers(request.header("origin"))
            await respond(
                send, 200, b"", [("x-amzn-requestid", request_id), ("content-type", "application/json"), *preflight]
            )
            return
        binding = resource.methods.get(request.method) or resource.methods.get("ANY")
        if binding is None:
            await error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
            return
        try:
            body = await read_body(receive, MAX_PAYLOAD)
        except BodyTooLarge as exc:
            if not exc.complete:
                await drain(receive, DRAIN_LIMIT)
            await error(413, "Request Too Long")
            return
        try:
            status, headers, data = await self._integrate(
                binding, request, body, resource.path, path, params, request_id
            )
        except INTEGRATION_FAILURES as exc:
            status, message = INTEGRATION_FAILURES_ANSWER[type(exc)]
            log.error("%s %s failed (%s): %s: %s", request.method, request.path, status, type(exc).__name__, exc)
            await error(status, message)
            return
        present = {k.lower() for k, _ in headers}
        extra = [(k, v) for k, v in base_headers if k not in present]
        await respond(send, status, data, [*headers, *extra])

    async def _integrate(
        self, binding: Binding, request: Request, body: bytes, resource: str, path: str, params: dict, request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        route = binding.route
        if binding.pool is None:
            return await self._direct(route, request, body)
        event = build_event(request, body, self.spec.stage, resource, path, params, request_id, self.api_id)
        return read_result(await binding.pool.invoke(event, request_id, route.timeout_s))

    def _stage_path(self, path: str) -> str | None:
        if path == self.prefix:
            return "/"
        if path.startswith(self.prefix + "/"):
            return path[len(self.prefix) :]
        return None

    async def _direct(self, route: RouteRequest, request: Request, body: bytes) -> tuple[int, list, bytes]:
        """The AWS integration to the SageMaker runtime, in process (no hop through HTTP)."""
        content_type = request.header("content-type") or route.content_type
        accept = request.header("accept")
        if not accept or accept == "*/*":
            accept = route.accept
        try:
            answer = await self.endpoints.invoke(route.endpoint, body, content_type, accept, timeout=route.timeout_s)
        except InvocationError as exc:
            log.error("%s %s: endpoint %s model error: %s", request.method, request.path, route.endpoint, exc)
            kind = "client" if exc.status < 500 else "server"
            message = json_body({"message": f"Received {kind} error ({exc.status}) from the model"})
            return 424, [("content-type", "application/json")], message
        return 200, [("content-type", answer.content_type)], answer.body
