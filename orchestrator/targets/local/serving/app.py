"""What an endpoint worker answers: the container contract and the runtime InvokeEndpoint API.

Every endpoint port answers `GET /ping` and `POST /invocations` for its own model, and
`POST /endpoints/{name}/invocations` for any endpoint of the local cloud (another
endpoint's requests are forwarded to the daemon, which knows where it is), with the
headers and error shapes botocore's rest-json parser expects. A body over SageMaker's
payload limit (6 MB real-time, 4 MB serverless) is answered 413 from its
Content-Length, before it is read, and dropped as it arrives, never held.
"""

from __future__ import annotations

import time
from urllib.parse import unquote

from ..asgi import BodyTooLarge, ClientGone, Request, read_body, respond, respond_json
from ..daemon.protocol import RUNTIME_PREFIX, RUNTIME_SUFFIX
from .http_client import ConnectFailed, HttpClient
from .inference import InvocationContext, InvocationError, LoadedModel
from .invoker import Invoker
from .request_ids import request_id as new_request_id
from .stats import WorkerStats

INVOCATION_TIMEOUT_S = 60.0
VARIANT = "AllTraffic"
ACCOUNT = "123456789012"
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
DRAIN_LIMIT = 64 * 1024 * 1024  # past this, a client still sending is cut off rather than read to the end
FORWARDED = ("content-type", "accept", CUSTOM_ATTRIBUTES)


def runtime_error(kind: str, status: int, message: str, **extra) -> tuple[int, dict, list[tuple[str, str]]]:
    # ModelError bodies carry modeled members (capitalised), ValidationError a plain message.
    body = {"Message": message, "ErrorCode": "MODEL_ERROR", **extra} if extra else {"message": message}
    return status, body, [("x-amzn-errortype", f"{kind}:http://internal.amazon.com/coral/com.amazon.sage.runtime/")]


def unknown_endpoint(name: str) -> str:
    return f"Endpoint {name} of account {ACCOUNT} not found."


class EndpointApp:
    """The ASGI app of one endpoint worker."""

    def __init__(
        self, name: str, model: LoadedModel, max_payload: int, control_port: int, stats: WorkerStats | None = None
    ):
        self.name = name
        self.stats = stats or WorkerStats(None)  # what `status` shows: requests, errors, latencies
        self.model = model
        self.max_payload = max_payload
        self.control_port = control_port
        self.invoker = Invoker(threads=4)  # off the loop, so /ping answers while a slow model runs
        self.client = HttpClient()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope)
        path = request.path
        if path == "/ping" and request.method == "GET":
            await respond(send, 200, b"")
        elif path == "/invocations" and request.method == "POST":
            await self._container(request, receive, send)
        elif path.startswith(RUNTIME_PREFIX) and path.endswith(RUNTIME_SUFFIX) and request.method == "POST":
            name = unquote(path[len(RUNTIME_PREFIX) : -len(RUNTIME_SUFFIX)])
            await self._runtime(name, request, receive, send)
        else:
            await respond_json(send, 404, {"message": f"no route for {request.method} {path}"})

    async def _body(self, request: Request, receive, send, runtime: bool) -> bytes | None:
        return await limited_body(request, receive, send, self.max_payload, runtime)

    async def invoke(self, body: bytes, request: Request) -> tuple[bytes, str, str | None]:
        started, ok = time.perf_counter(), False
        try:
            answer = await self._invoke(body, request)
            ok = True
            return answer
        finally:
            self.stats.record((time.perf_counter() - started) * 1000, ok)

    async def _invoke(self, body: bytes, request: Request) -> tuple[bytes, str, str | None]:
        context = InvocationContext(custom_attributes=request.header(CUSTOM_ATTRIBUTES))
        data, media = await self.invoker.run(
            INVOCATION_TIMEOUT_S,
            self.model.invoke,
            body,
            request.header("content-type", "application/json"),
            request.header("accept"),
            context,
        )
        return data, media, context.response_custom_attributes

    async def _container(self, request: Request, receive, send) -> None:
        """The bare container contract: the model server's own status codes."""
        body = await self._body(request, receive, send, runtime=False)
        if body is None:
            return
        try:
            data, media, attributes = await self.invoke(body, request)
        except InvocationError as exc:
            await respond_json(send, exc.status, {"message": str(exc)})
            return
        except TimeoutError:
            await respond_json(send, 504, {"message": "invocation timed out"})
            return
        await respond(send, 200, data, answer_headers(media, attributes))

    async def _runtime(self, name: str, request: Request, receive, send) -> None:
        request_id = new_request_id()
        body = await self._body(request, receive, send, runtime=True)
        if body is None:
            return
        if name != self.name:
            await self._forward(name, request, body, send)
            return
        try:
            data, media, attributes = await self.invoke(body, request)
        except InvocationError as exc:
            status, payload, headers = runtime_error(
                "ModelError",
                424,
                f"Received {'client' if exc.status < 500 else 'server'} error ({exc.status}) "
                f'from primary with message "{exc}". See the daemon log for more information.',
                OriginalStatusCode=exc.status,
                OriginalMessage=str(exc),
                LogStreamArn=f"arn:aws:logs:local:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{name}",
            )
        except TimeoutError:
            status, payload, headers = runtime_error(
                "ModelError",
                424,
                "Your invocation timed out while waiting for a response from container primary.",
                OriginalStatusCode=0,
                OriginalMessage="timed out",
            )
        else:
            headers = answer_headers(media, attributes)
            headers += [("x-amzn-invoked-production-variant", VARIANT), ("x-amzn-requestid", request_id)]
            await respond(send, 200, data, headers)
            return
        await respond_json(send, status, payload, [*headers, ("x-amzn-requestid", request_id)])

    async def _forward(self, name: str, request: Request, body: bytes, send) -> None:
        """Another endpoint's request: the daemon's runtime API knows where it is (or that it is not)."""
        headers = [(k, v) for k, v in request.headers if k in FORWARDED]
        try:
            answer = await self.client.request(
                self.control_port, "POST", f"{RUNTIME_PREFIX}{name}{RUNTIME_SUFFIX}", headers, body
            )
        except ConnectFailed:
            status, payload, extra = runtime_error("ValidationError", 400, unknown_endpoint(name))
            await respond_json(send, status, payload, extra)
            return
        kept = [(k, v) for k, v in answer.headers if k not in ("content-length", "connection", "date", "server")]
        await respond(send, answer.status, answer.body, kept)


def answer_headers(media: str, attributes: str | None) -> list[tuple[str, str]]:
    headers = [("content-type", media)]
    if attributes is not None:
        headers.append((CUSTOM_ATTRIBUTES, attributes))
    return headers


async def limited_body(request: Request, receive, send, max_payload: int, runtime: bool) -> bytes | None:
    """The body, or None when there is nothing left to do: a 413 was sent, or the client left mid-body.

    A declared Content-Length over the limit is answered before a byte of the body is read.
    The answer goes out at once; uvicorn drops the rest of the body as it arrives and keeps
    the connection, so a client still sending reads the 413 when it is done. A client that
    would send more than DRAIN_LIMIT (or did not say how much) is cut off instead.
    """
    declared = request.header("content-length")
    try:
        if declared is not None and declared.isdigit() and int(declared) > max_payload:
            raise BodyTooLarge(complete=False)
        return await read_body(receive, max_payload)
    except ClientGone:
        return None  # the client left mid-body: the model never sees a truncated request
    except BodyTooLarge as exc:
        limit_mb = max_payload // (1024 * 1024)
        message = f"Request payload is larger than the endpoint's {limit_mb} MB limit."
        bounded = declared is not None and declared.isdigit() and int(declared) <= DRAIN_LIMIT
        headers = [] if exc.complete or bounded else [("connection", "close")]
        if runtime:
            status, payload, extra = runtime_error("ValidationError", 413, message)
            headers += extra
        else:
            status, payload = 413, {"message": message}
        await respond_json(send, status, payload, headers)
        return None
