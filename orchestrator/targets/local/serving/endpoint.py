"""SageMaker endpoints: the container contract and the runtime InvokeEndpoint API.

Every endpoint port answers `GET /ping` and `POST /invocations` for its own model, and
`POST /endpoints/{name}/invocations` for any endpoint of this daemon, with the
headers and error shapes botocore's rest-json parser expects.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..asgi import Request, read_body, respond, respond_json
from ..daemon.protocol import RUNTIME_PREFIX, RUNTIME_SUFFIX
from .inference import InvocationContext, InvocationError, LoadedModel, load_model

INVOCATION_TIMEOUT_S = 60.0
VARIANT = "AllTraffic"
ACCOUNT = "123456789012"
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"


class UnknownEndpoint(Exception):
    def __init__(self, name: str):
        super().__init__(f"Endpoint {name} of account {ACCOUNT} not found.")
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
    """A named endpoint; `model` is replaced whole, so a request sees the old or the new one."""

    name: str
    port: int
    model: LoadedModel
    model_dir: Path


class EndpointRegistry:
    """Every endpoint of the daemon by name. Models load on one thread and invocations run
    on a pool, so neither a slow model_fn nor a slow predict ever blocks the event loop."""

    def __init__(self, models_dir: Path):
        self.models_dir = models_dir
        self.endpoints: dict[str, Endpoint] = {}
        self._invoke_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="invoke")
        self._load_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load")

    async def load(
        self, name: str, model_uri: str, inference: str | None, environment: dict[str, str]
    ) -> tuple[LoadedModel, Path]:
        """Load a model completely, off the event loop, without touching what serves now."""
        work_dir = self.models_dir / name / uuid.uuid4().hex[:12]
        loop = asyncio.get_running_loop()
        inference_path = Path(inference) if inference else None
        try:
            model = await loop.run_in_executor(
                self._load_pool, load_model, model_uri, inference_path, environment, work_dir
            )
        except BaseException:
            shutil.rmtree(work_dir, ignore_errors=True)
            raise
        return model, work_dir

    def swap(self, name: str, port: int, model: LoadedModel, model_dir: Path) -> Endpoint:
        current = self.endpoints.get(name)
        if current is None:
            current = self.endpoints[name] = Endpoint(name=name, port=port, model=model, model_dir=model_dir)
            return current
        old_dir = current.model_dir
        current.model, current.model_dir = model, model_dir  # one reference swap each
        if old_dir != model_dir and self.models_dir in old_dir.parents:
            # In-flight requests hold the old model object, not its files; keep them a while.
            asyncio.get_running_loop().call_later(30, shutil.rmtree, old_dir, True)
        return current

    def remove(self, name: str) -> Endpoint | None:
        endpoint = self.endpoints.pop(name, None)
        if endpoint is not None:
            shutil.rmtree(self.models_dir / name, ignore_errors=True)
        return endpoint

    async def invoke(
        self,
        name: str,
        body: bytes,
        content_type: str,
        accept: str | None,
        custom_attributes: str | None = None,
        timeout: float = INVOCATION_TIMEOUT_S,
    ) -> Answer:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise UnknownEndpoint(name)
        model = endpoint.model
        context = InvocationContext(custom_attributes=custom_attributes)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._invoke_pool, model.invoke, body, content_type, accept, context)
        try:
            data, media = await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise InvocationTimeout(name) from exc
        return Answer(data, media, context.response_custom_attributes)

    def close(self) -> None:
        self._invoke_pool.shutdown(wait=False, cancel_futures=True)
        self._load_pool.shutdown(wait=False, cancel_futures=True)


def _runtime_error(kind: str, status: int, message: str, **extra) -> tuple[int, dict, list[tuple[str, str]]]:
    # ModelError bodies carry modeled members (capitalised), ValidationError a plain message.
    body = {"Message": message, "ErrorCode": "MODEL_ERROR", **extra} if extra else {"message": message}
    return status, body, [("x-amzn-errortype", f"{kind}:http://internal.amazon.com/coral/com.amazon.sage.runtime/")]


class EndpointApp:
    """The ASGI app behind one endpoint's port."""

    def __init__(self, registry: EndpointRegistry, name: str):
        self.registry = registry
        self.name = name

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope)
        path = request.path
        if path == "/ping" and request.method == "GET":
            ok = self.name in self.registry.endpoints
            await respond(send, 200 if ok else 503, b"" if ok else b"not ready")
        elif path == "/invocations" and request.method == "POST":
            await self._container(request, receive, send)
        elif path.startswith(RUNTIME_PREFIX) and path.endswith(RUNTIME_SUFFIX) and request.method == "POST":
            name = unquote(path[len(RUNTIME_PREFIX) : -len(RUNTIME_SUFFIX)])
            await self._runtime(name, request, receive, send)
        else:
            await respond_json(send, 404, {"message": f"no route for {request.method} {path}"})

    async def _container(self, request: Request, receive, send) -> None:
        """The bare container contract: the model server's own status codes."""
        body = await read_body(receive)
        try:
            answer = await self.registry.invoke(
                self.name,
                body,
                request.header("content-type", "application/json"),
                request.header("accept"),
                request.header(CUSTOM_ATTRIBUTES),
            )
        except InvocationError as exc:
            await respond_json(send, exc.status, {"message": str(exc)})
            return
        except InvocationTimeout:
            await respond_json(send, 504, {"message": "invocation timed out"})
            return
        except UnknownEndpoint:
            await respond_json(send, 503, {"message": "model not loaded"})
            return
        await respond(send, 200, answer.body, _answer_headers(answer))

    async def _runtime(self, name: str, request: Request, receive, send) -> None:
        request_id = str(uuid.uuid4())
        body = await read_body(receive)
        try:
            answer = await self.registry.invoke(
                name,
                body,
                request.header("content-type", "application/json"),
                request.header("accept"),
                request.header(CUSTOM_ATTRIBUTES),
            )
        except UnknownEndpoint as exc:
            status, payload, headers = _runtime_error("ValidationError", 400, str(exc))
        except InvocationError as exc:
            status, payload, headers = _runtime_error(
                "ModelError",
                424,
                f"Received {'client' if exc.status < 500 else 'server'} error ({exc.status}) "
                f'from primary with message "{exc}". See the daemon log for more information.',
                OriginalStatusCode=exc.status,
                OriginalMessage=str(exc),
                LogStreamArn=f"arn:aws:logs:local:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{name}",
            )
        except InvocationTimeout:
            status, payload, headers = _runtime_error(
                "ModelError",
                424,
                "Your invocation timed out while waiting for a response from container primary.",
                OriginalStatusCode=0,
                OriginalMessage="timed out",
            )
        else:
            headers = _answer_headers(answer)
            headers += [("x-amzn-invoked-production-variant", VARIANT), ("x-amzn-requestid", request_id)]
            await respond(send, 200, answer.body, headers)
            return
        await respond_json(send, status, payload, [*headers, ("x-amzn-requestid", request_id)])


def _answer_headers(answer: Answer) -> list[tuple[str, str]]:
    headers = [("content-type", answer.content_type)]
    if answer.custom_attributes is not None:
        headers.append((CUSTOM_ATTRIBUTES, answer.custom_attributes))
    return headers
