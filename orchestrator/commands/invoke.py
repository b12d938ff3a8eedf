"""`invoke`: call what a pipeline deployed, once, and show the answer.

An endpoint step is called through SageMaker's runtime API (InvokeEndpoint), an api
step's route over plain HTTP at the URL its stage was recorded with, on either target.
It only reads recorded outputs: no lock, no plan, nothing changed. The status line and
headers go to stderr and the body to stdout, so `invoke ... | jq` sees only the body.
"""

from __future__ import annotations

import base64
import http
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diagnostics import did_you_mean
from ..errors import EXIT_FAILED, EXIT_OK, OrchestratorError, UsageError
from ..spec.models import ApiStep, EndpointStep
from ..state import open_store
from ..validate import Spec, validate_file
from .common import command_line
from .invoke_http import Answer, http_call
from .invoke_routes import pick_route
from .output import emit, emit_json

MiB = 1024 * 1024
# Request limits, refused before anything is sent:
# real-time InvokeEndpoint takes up to 6 MB (Body: max length 6291456,
#   https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html),
# a serverless endpoint 4 MB (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html),
# API Gateway REST APIs 10 MB (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
REAL_TIME_LIMIT, SERVERLESS_LIMIT, API_LIMIT = 6 * MiB, 4 * MiB, 10 * MiB
PRINT_LIMIT = 64 * 1024  # of a body shown at a terminal; --json and -o FILE get all of it
ENDPOINT_TIMEOUT_S = 70  # SageMaker gives a model 60 s to answer
ROUTE_TIMEOUT_S = 35  # API Gateway cuts an integration off at 29 s


@dataclass(frozen=True)
class Call:
    """One invocation: the step, what its last deploy recorded, where, and what to send."""

    spec: Spec
    name: str
    step: Any
    outputs: dict[str, Any]
    target: str
    body: bytes | None
    content_type: str
    accept: str | None
    route: str | None
    verbose: bool

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": self.content_type} if self.body is not None else {}
        return headers | ({"Accept": self.accept} if self.accept else {})

    def unreachable(self, reason: str) -> OrchestratorError:
        return UNREACHABLE[self.target](self, reason)


@dataclass(frozen=True)
class Invoker:
    """How one kind of step is invoked: its request limit (bytes, and whose it is) and the call."""

    limit: Callable[[Any], tuple[int, str]]
    call: Callable[[Call], Answer]


def invoke(args, targets) -> int:
    spec = validate_file(args.file, strict_env=False)
    name, step, outputs, target = _deployed(spec, args.step, args.target)
    invoker = INVOKERS[step.type]
    if args.route is not None and not isinstance(step, ApiStep):
        raise UsageError(f"--route is for api steps; '{name}' is an {step.type} step", f"drop --route for '{name}'")
    limit, whose = invoker.limit(step)
    body = read_body(args.body, limit, whose)
    call = Call(spec, name, step, outputs, target, body, args.content_type, args.accept, args.route, args.verbose)
    answer = invoker.call(call)
    show(answer, args)
    return EXIT_OK if answer.ok else EXIT_FAILED


def _deployed(spec: Spec, name: str, asked: str | None) -> tuple[str, Any, dict[str, Any], str]:
    """The step, what its last successful deploy recorded, and the target that made it; else exit 2."""
    steps = spec.pipeline.steps
    invokable = [n for n, s in steps.items() if s.type in INVOKERS]
    choices = "steps to invoke: " + (", ".join(invokable) or "none (add an endpoint or api step)")
    if name not in steps:
        raise UsageError(f"no step named '{name}' in {spec.display}", did_you_mean(name, steps) or choices)
    step = steps[name]
    if step.type not in INVOKERS:
        raise UsageError(f"step '{name}' is a {step.type} step; invoke calls endpoint and api steps", choices)
    store = open_store(spec.pipeline, spec.root, create=False)
    try:
        resource = store.resources().get(name)
    finally:
        store.close()
    if resource is None or not resource.outputs.get("url"):
        raise UsageError(
            f"step '{name}' has nothing deployed yet", f"deploy it first: {command_line('run', spec.display)}"
        )
    target = resource.target or spec.pipeline.target
    if asked and asked != target:
        raise UsageError(
            f"step '{name}' is deployed on target {target}, not {asked}", f"drop --target, or use --target {target}"
        )
    return name, step, resource.outputs, target


def read_body(given: str | None, limit: int, whose: str) -> bytes | None:
    """--body TEXT, @FILE or - (stdin), refused past `limit` bytes before anything is sent."""
    if given is None:
        return None
    if given == "-":
        data = sys.stdin.buffer.read(limit + 1)
    elif given.startswith("@"):
        path = Path(given[1:])
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise UsageError(
                f"--body {given}: cannot read {path}: {exc.strerror or exc}",
                "--body @FILE sends the file's bytes; give a readable file, or the body itself",
            ) from exc
    else:
        data = given.encode()
    if len(data) > limit:
        raise UsageError(
            f"--body is over {whose} ({limit // MiB} MB): nothing was sent",
            "send a smaller body, or put the data in S3 and send its location",
        )
    return data


# -- endpoints ----------------------------------------------------------------------------


def _endpoint_limit(step: EndpointStep) -> tuple[int, str]:
    if step.serverless is not None:
        return SERVERLESS_LIMIT, "a serverless endpoint's payload limit"
    return REAL_TIME_LIMIT, "InvokeEndpoint's payload limit"


def _local_endpoint(call: Call) -> Answer:
    """The local cloud's runtime API, at the InvokeEndpoint URL the deploy recorded."""
    url = call.outputs["url"]
    _request_line(call, f"POST {url}")
    headers = {"Content-Type": call.content_type} | call.headers()  # InvokeEndpoint always says what it sends
    return http_call("POST", url, call.body or b"", headers, ENDPOINT_TIMEOUT_S, call.unreachable)


def _aws_endpoint(call: Call) -> Answer:
    from .invoke_aws import invoke_endpoint

    pipeline = call.spec.pipeline
    endpoint = call.outputs["endpoint_name"]
    _request_line(call, f"InvokeEndpoint {endpoint} ({pipeline.region})")
    return invoke_endpoint(
        pipeline.region, pipeline.aws.profile, endpoint, call.body or b"", call.content_type, call.accept
    )


ENDPOINT_CALLS: dict[str, Callable[[Call], Answer]] = {"local": _local_endpoint, "aws": _aws_endpoint}


def _call_endpoint(call: Call) -> Answer:
    return ENDPOINT_CALLS[call.target](call)


# -- api routes -------------------------------------------------------------------------------


def _call_route(call: Call) -> Answer:
    """A route of the deployed stage, at the URL it was recorded with (the stage is in it)."""
    chosen = pick_route(call.name, call.step, call.route, call.body is not None)
    url = call.outputs["url"].rstrip("/") + chosen.path
    _request_line(call, f"{chosen.method} {url}")
    return http_call(chosen.method, url, call.body, call.headers(), ROUTE_TIMEOUT_S, call.unreachable)


INVOKERS: dict[str, Invoker] = {
    "endpoint": Invoker(_endpoint_limit, _call_endpoint),
    "api": Invoker(lambda step: (API_LIMIT, "API Gateway's payload limit"), _call_route),
}


# -- when nothing answers ------------------------------------------------------------------------


def _local_down(call: Call, reason: str) -> OrchestratorError:
    return OrchestratorError(
        f"the local cloud is not running: {reason}",
        f"start it again with {command_line('run', call.spec.display)} (it brings back what is recorded)",
    )


def _remote_down(call: Call, reason: str) -> OrchestratorError:
    return OrchestratorError(
        reason, f"check the network, and what is deployed: {command_line('status', call.spec.display)}"
    )


UNREACHABLE: dict[str, Callable[[Call, str], OrchestratorError]] = {"local": _local_down, "aws": _remote_down}


# -- showing the answer ------------------------------------------------------------------------


def _request_line(call: Call, line: str) -> None:
    if call.verbose:
        sys.stderr.write(f"> {line}\n")


def show(answer: Answer, args) -> None:
    if args.output:
        Path(args.output).write_bytes(answer.body)
    if args.json:
        emit_json(answer_document(answer))
        return
    reason = answer.reason or _phrase(answer.status)
    sys.stderr.write(f"HTTP {answer.status} {reason}".rstrip() + "\n")
    if args.verbose:
        sys.stderr.write("".join(f"{key}: {value}\n" for key, value in answer.headers))
    if args.output:
        sys.stderr.write(f"wrote {len(answer.body)} bytes to {args.output}\n")
        return
    text = _text(answer.body)
    if text is None:
        sys.stderr.write(f"{len(answer.body)} bytes of binary content; save them with -o FILE\n")
    elif len(answer.body) > PRINT_LIMIT:
        emit(_text(answer.body[:PRINT_LIMIT], partial=True) or "")
        sys.stderr.write(
            f"... {len(answer.body) - PRINT_LIMIT} more bytes not shown; all of it with -o FILE or --json\n"
        )
    elif text:
        emit(text)


def answer_document(answer: Answer) -> dict[str, Any]:
    """The stable `invoke --json` shape: {"status", "headers", "body"} (+ "body_encoding" for binary)."""
    headers: dict[str, str] = {}
    for key, value in answer.headers:
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    text = _text(answer.body)
    if text is None:
        return {
            "status": answer.status,
            "headers": headers,
            "body": base64.b64encode(answer.body).decode(),
            "body_encoding": "base64",
        }
    return {"status": answer.status, "headers": headers, "body": text}


def _text(body: bytes, partial: bool = False) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(body) - 3:  # cut inside a character
            return body[: exc.start].decode("utf-8")
        return None


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""
