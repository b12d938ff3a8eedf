"""An API Gateway REST API stage serving exactly its OpenAPI document: routes from its paths,
`aws_proxy` to the Lambda workers, `aws` to the SageMaker runtime through the document's
templates, `mock` for preflights, errors from its gateway responses, API keys and throttling.

Error answers use API Gateway's shapes and status codes so clients written against the real
thing behave the same here; integration failures go to the daemon log, never to the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

from ...lambda_shim import with_cors
from ..asgi import BodyTooLarge, ClientGone, Request, drain, read_body, respond
from ..daemon.protocol import ApiRequest, FunctionRequest, function_name
from ..lambdas.environment import lambda_environment
from ..lambdas.pool import BOOTSTRAP, FunctionError, FunctionPool, FunctionSpec, LambdaFailed, LambdaTimeout
from ..logbook import LogWriter, Redactor, log_file
from ..serving.endpoint import EndpointRegistry, InvocationTimeout, UnknownEndpoint
from ..serving.inference import InvocationError
from ..serving.request_ids import request_id as new_request_id
from ..storage.access import Access, Credentials
from . import integrations as aws
from . import lambda_custom, request_validation
from .limits import Limits
from .proxy_event import MalformedResult, build_event, read_result
from .stage import GatewayResponses, Operation, read_routes
from .vtl import TemplateError

log = logging.getLogger("orchestrator.local.gateway")
MAX_PAYLOAD = 10 * 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # past this a client is cut off rather than read to the end
# What the caller gets when an integration fails (a gateway error of stage.ERRORS); the log gets why.
FAILURES = {
    LambdaTimeout: "timeout",
    InvocationTimeout: "timeout",
    LambdaFailed: "internal",
    FunctionError: "internal",  # a handler's own error: proxy routes answer 502 (custom ones map it)
    MalformedResult: "internal",
    TemplateError: "server",
    aws.UnsupportedMediaType: "media_type",
}
# What SageMaker's runtime answers API Gateway with, for the integration response selection.
MODEL_ERROR, VALIDATION_ERROR = 424, 400

Answer = tuple[int, list[tuple[str, str]], bytes]


class GatewayError(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


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
        self.router = read_routes(spec.document)
        self.responses = GatewayResponses(spec.document)
        self.binary_types = tuple(spec.document.get("x-amazon-apigateway-binary-media-types") or ())
        self.limits = Limits(spec.throttle, spec.api_key)
        self._inflight = 0  # requests inside this gateway, from first byte to last
        self.access = access
        self.credentials: list[Credentials] = []
        redact = Redactor(value for function in spec.functions for value in function.environment.values())
        self.access_log = LogWriter(log_file(logs_root, "access", api_id), redact)
        self.pools: dict[str, FunctionPool] = {}
        for function in spec.functions:
            runs_as = self._function(function, runtime_url, s3_url)
            own_log = LogWriter(log_file(logs_root, "lambdas", runs_as.name), Redactor(function.environment.values()))
            self.pools[function.arn] = FunctionPool(runs_as, own_log)
        # the CORS headers the deployed wrapper (targets/lambda_shim.py) adds to each function's proxy answers
        self.lambda_cors = {function.arn: function.cors for function in spec.functions if function.cors}
        self.integrations = {"aws_proxy": self._lambda_proxy, "aws": self._aws_service, "mock": self._mock}

    def _function(self, function: FunctionRequest, runtime_url: Callable[[str], str], s3_url: str) -> FunctionSpec:
        """A lambda route's function: its code, and an environment of its own with its own credentials."""
        name = function_name(self.api_id, function.method, function.path)
        code = function.code
        credentials = self.access.issue(name, code.s3_read)
        self.credentials.append(credentials)
        own = dict(function.environment)
        if function.endpoint:
            own = {
                **own,
                "ENDPOINT_NAME": function.endpoint,
                "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": runtime_url(function.endpoint),
            }
        environment = lambda_environment(
            function=name,
            handler=code.handler,
            task_root=Path(code.bundle),
            runtime_dir=BOOTSTRAP.parent,
            runtime=code.runtime,
            memory_mb=function.memory_mb,
            region=self.spec.region,
            credentials=credentials,
            s3_url=s3_url,
            own=own,
        )
        return FunctionSpec(name, Path(code.bundle), code.layers, function.memory_mb, environment)

    def warm(self) -> None:
        """Start each function's first worker in the background, one at a time so the
        machine stays responsive; a request that comes first starts its own worker."""

        async def one_by_one() -> None:
            for pool in self.pools.values():
                await pool.warm_quietly()

        self._warming = asyncio.get_running_loop().create_task(one_by_one())

    async def close(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))
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
                headers = {bytes(k).lower(): v for k, v in message.get("headers") or ()}  # names keep their case
                answered["request_id"] = bytes(headers.get(b"x-amzn-requestid", b"")).decode("latin-1") or None
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

    def _context(self, request: Request, request_id: str, operation: Operation | None, path: str) -> dict:
        """`$context` for this request's templates."""
        return {
            "requestId": request_id,
            "extendedRequestId": request_id,
            "apiId": self.api_id,
            "accountId": "123456789012",
            "stage": self.spec.stage,
            "httpMethod": request.method,
            "resourcePath": operation.resource if operation else path,
            "resourceId": operation.resource if operation else path,
            "path": f"{self.prefix}{path}",
            "domainName": request.header("host", "127.0.0.1"),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": request.client_ip, "userAgent": request.header("user-agent")},
            "responseOverride": {"header": {}, "status": None},
        }

    async def _serve(self, scope, receive, send) -> None:
        request = Request.from_scope(scope)
        request_id = new_request_id()
        raw_path = request.raw_path.decode("latin-1")  # REST APIs route and pass the path percent-encoded
        path = self._stage_path(raw_path)
        found = self.router.resource_for(path) if path is not None else None
        operation, params = None, {}
        if found is not None:
            resource, params = found
            operation = resource.methods.get(request.method) or resource.methods.get("ANY")
        try:
            if operation is None:
                raise GatewayError("missing_token")
            refused = self.limits.admit(operation.api_key_required, request.header("x-api-key"))
            if refused:
                raise GatewayError(refused)
            try:
                body = await read_body(receive, MAX_PAYLOAD)
            except BodyTooLarge as exc:
                if not exc.complete:
                    await drain(receive, DRAIN_LIMIT)
                raise GatewayError("too_large") from None
            invalid = request_validation.problem(operation.models, request.header("content-type"), body)
            if invalid:  # API Gateway logs why; the caller gets only "Invalid request body"
                log.info("%s %s: request body does not match its model: %s", request.method, raw_path, invalid)
                raise GatewayError("bad_body")
            integrate = self.integrations[operation.integration.get("type", "").lower()]
            status, headers, data = await integrate(operation, request, body, path, params, request_id)
        except ClientGone:
            return  # nobody to answer
        except GatewayError as exc:
            context = self._context(request, request_id, operation, path or raw_path)
            status, headers, data = self.responses.answer(exc.error, context, request.header)
        headers.append(("x-amzn-RequestId", request_id))
        await respond(send, status, data, headers)

    def _stage_path(self, path: str) -> str | None:
        if path == self.prefix:
            return "/"
        if path.startswith(self.prefix + "/"):
            return path[len(self.prefix) :]
        return None

    def _failed(self, exc: Exception, request: Request, what: str) -> GatewayError:
        error = FAILURES[type(exc)]
        log.error("%s %s failed (%s): %s: %s", request.method, request.path, what, type(exc).__name__, exc)
        return GatewayError(error)

    # -- integrations ---------------------------------------------------------------------
    async def _lambda_proxy(self, op: Operation, request: Request, body: bytes, path, params, request_id) -> Answer:
        arn = aws.lambda_arn(op.integration) or ""
        pool = self.pools.get(arn)
        if pool is None:
            log.error("%s %s: no function for %s", request.method, request.path, op.integration.get("uri"))
            raise GatewayError("internal")
        host = request.header("host") or ""
        port = host.rpartition(":")[2] if ":" in host else "80"
        event = build_event(
            request, body, self.spec.stage, op.resource, path, params, request_id, self.api_id, port, self.binary_types
        )
        try:
            result = await pool.invoke(event, request_id, aws.timeout_s(op.integration))
            if arn in self.lambda_cors:
                try:
                    result = with_cors(result, self.lambda_cors[arn], event)
                except (TypeError, AttributeError):  # malformed headers: read_result refuses the answer (502)
                    pass
            return read_result(result, request.header("accept"), self.binary_types)
        except (LambdaTimeout, LambdaFailed, MalformedResult) as exc:
            raise self._failed(exc, request, "lambda") from None

    async def _aws_service(self, op: Operation, request: Request, body: bytes, path, params, request_id) -> Answer:
        """An `aws` integration calls Lambda (a custom integration) or the SageMaker runtime."""
        if aws.lambda_arn(op.integration):
            return await self._lambda_custom(op, request, body, path, params, request_id)
        return await self._sagemaker(op, request, body, path, params, request_id)

    def _rendering(self, op: Operation, request: Request, path, params, request_id) -> Callable[[], aws.Rendering]:
        """What mapping templates see ($input's params, $context), built on first use only:
        most requests render no template."""
        views: list[aws.Rendering] = []

        def rendering() -> aws.Rendering:
            if not views:
                views.append(aws.Rendering(self._params(request, params), self._context(request, request_id, op, path)))
            return views[0]

        return rendering

    async def _lambda_custom(self, op: Operation, request: Request, body: bytes, path, params, request_id) -> Answer:
        pool = self.pools.get(aws.lambda_arn(op.integration) or "")
        if pool is None:
            log.error("%s %s: no function for %s", request.method, request.path, op.integration.get("uri"))
            raise GatewayError("internal")
        rendering = self._rendering(op, request, path, params, request_id)

        try:
            return await lambda_custom.answer(
                pool, op.integration, request, body, self.binary_types, rendering, request_id
            )
        except (LambdaTimeout, aws.UnsupportedMediaType, TemplateError) as exc:
            raise self._failed(exc, request, "lambda") from None

    async def _sagemaker(self, op: Operation, request: Request, body: bytes, path, params, request_id) -> Answer:
        """The AWS integration to the SageMaker runtime, in process (no hop through HTTP)."""
        integration = op.integration
        rendering = self._rendering(op, request, path, params, request_id)

        try:
            payload = aws.request_payload(
                integration, request.header("content-type"), body, self.binary_types, rendering
            )
            sent = aws.integration_headers(integration, request.header)
        except (aws.UnsupportedMediaType, TemplateError) as exc:
            raise self._failed(exc, request, "request mapping") from None
        endpoint = aws.sagemaker_endpoint(integration) or ""
        content_type = sent.get("content-type") or request.header("content-type") or "application/json"
        try:
            answer = await self.endpoints.invoke(
                endpoint, payload, content_type, sent.get("accept"), timeout=aws.timeout_s(integration)
            )
            status, answer_headers, answer_body = 200, {"content-type": answer.content_type}, answer.body
        except InvocationTimeout as exc:
            raise self._failed(exc, request, "endpoint") from None
        except InvocationError as exc:  # SageMaker's ModelError: the caller never sees its body
            log.error("%s %s: endpoint %s model error: %s", request.method, request.path, endpoint, exc)
            status, answer_headers = MODEL_ERROR, {"content-type": "application/json"}
            answer_body = json.dumps({"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "OriginalMessage": str(exc)}).encode()
        except UnknownEndpoint as exc:  # SageMaker's ValidationError
            log.error("%s %s: %s", request.method, request.path, exc)
            status, answer_headers = VALIDATION_ERROR, {"content-type": "application/json"}
            answer_body = json.dumps({"message": str(exc)}).encode()
        response = aws.select_response(integration.get("responses") or {}, str(status))
        try:
            return aws.method_response(
                response, answer_body, answer_headers, request.header, rendering, self.binary_types
            )
        except TemplateError as exc:
            raise self._failed(exc, request, "response mapping") from None

    async def _mock(self, op: Operation, request: Request, body: bytes, path, params, request_id) -> Answer:
        rendering = self._rendering(op, request, path, params, request_id)

        try:
            status = aws.mock_status(op.integration, rendering)
            response = aws.select_response(op.integration.get("responses") or {}, status)
            code, headers, data = aws.method_response(response, b"", {}, request.header, rendering)
        except TemplateError as exc:
            raise self._failed(exc, request, "mock") from None
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return code, headers, data

    @staticmethod
    def _params(request: Request, path_params: dict[str, str]) -> dict[str, dict[str, str]]:
        return {
            "path": dict(path_params),
            "querystring": dict(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)),
            "header": dict(request.raw_headers),
        }
