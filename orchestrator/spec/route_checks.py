"""Checks of an api step's routes: paths, handlers, endpoints and the Lambda integration's options.

A lambda route is a Lambda proxy integration unless it sets `proxy: false`; then it is API
Gateway's custom integration, whose error mapping (`errors:`) is a set of regexes matched
against the function's errorMessage:
https://docs.aws.amazon.com/apigateway/latest/developerguide/handle-errors-in-lambda-integration.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..diagnostics import Diagnostic
from .kinds import HANDLER
from .loader import Document
from .media_types import is_text
from .models import ApiStep, Pipeline, Route
from .refs import REF
from .request_schema_checks import check_request_schemas
from .text import shown

# API Gateway's rule for a resource path segment: letters, digits, `_-.,:` or a {param}
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html)
ROUTE_PATH = re.compile(r"^(/([A-Za-z0-9._,:-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\}))+$|^/$")
# Statuses an error may map to: a method response API Gateway can declare for a client or server error.
ERROR_STATUSES = range(400, 600)
CUSTOM_ONLY = ("request_template", "errors")  # what only a `proxy: false` lambda route reads


def _steps(pipeline: Pipeline) -> Iterator[tuple[str, ApiStep]]:
    for name, step in pipeline.steps.items():
        if isinstance(step, ApiStep):
            yield name, step


def check_routes(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    for name, step in _steps(p):
        seen: set[tuple[str, str]] = set()
        for i, route in enumerate(step.routes):
            at = ("steps", name, "routes", i)
            if not ROUTE_PATH.match(route.path):
                yield doc.diagnostic(
                    at + ("path",),
                    f"invalid route path '{shown(route.path)}'",
                    "segments of letters, digits, '_-.,:' (API Gateway's rule), or {param} / {param+}",
                )
            key = (route.method, route.path)
            if key in seen:
                yield doc.diagnostic(at, f"route {route.method} {shown(route.path)} is defined twice")
            seen.add(key)
            if route.integration == "lambda":
                if not route.handler:
                    yield doc.diagnostic(
                        at, "a lambda route needs 'handler'", "e.g. handler: api/handler.py:lambda_handler"
                    )
                elif not HANDLER.match(route.handler):
                    yield doc.diagnostic(
                        at + ("handler",),
                        f"handler '{shown(route.handler)}' is not FILE.py:FUNCTION",
                        "e.g. api/handler.py:lambda_handler",
                    )
            elif route.handler:
                yield doc.diagnostic(
                    at + ("handler",),
                    "direct routes call the endpoint themselves; remove 'handler'",
                    "or use integration: lambda",
                )
            if route.s3_read and route.integration != "lambda":
                yield doc.diagnostic(at + ("s3_read",), "only lambda routes read from S3", "remove s3_read")
            for j, uri in enumerate(route.s3_read):
                if not uri.startswith("s3://") and not REF.search(uri):
                    yield doc.diagnostic(
                        at + ("s3_read", j),
                        f"'{shown(uri)}' is not an s3:// URI or a step output",
                        "e.g. s3://bucket/transforms/ or ${steps.features.outputs.model}",
                    )
            if route.integration == "direct" and not route.endpoint:
                yield doc.diagnostic(
                    at,
                    "a direct route needs 'endpoint': API Gateway calls that endpoint itself",
                    "e.g. endpoint: ${steps.deploy.outputs.endpoint_name}",
                )
            if route.integration == "direct" and route.method == "GET":
                yield doc.diagnostic(at + ("method",), "direct routes send the request body to the endpoint: use POST")
        yield from _binary_answer_problems(name, step, doc)
        if step.cors and step.cors.allow_credentials and "*" in step.cors.allow_origins:
            yield doc.diagnostic(
                ("steps", name, "cors"),
                "browsers refuse credentials with allow_origins ['*']",
                "list the origins, or set allow_credentials: false",
            )


def _binary_answer_problems(name: str, step: ApiStep, doc: Document) -> Iterator[Diagnostic]:
    """A binary answer passes through API Gateway with no mapping template, and only a template
    can echo the caller's Origin (a static `*` needs none)."""
    cors = step.cors
    if cors is None or cors.any_origin:
        return
    for i, route in enumerate(step.routes):
        if route.integration == "direct" and not is_text(route.accept):
            yield doc.diagnostic(
                ("steps", name, "routes", i, "accept"),
                f"a binary answer ({shown(route.accept)}) cannot carry a CORS origin chosen per request: "
                "API Gateway passes binary answers through with no template, and only a template echoes the Origin",
                "set cors.allow_origins: ['*'] without credentials, or accept a text type (e.g. application/json)",
            )


def check_lambda_integrations(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """`proxy`, `request_template` and `errors` only where API Gateway reads them, and error
    patterns it can use to choose a response."""
    for name, step in _steps(p):
        for i, route in enumerate(step.routes):
            at = ("steps", name, "routes", i)
            if route.integration != "lambda" and "proxy" in route.model_fields_set:
                yield doc.diagnostic(
                    at + ("proxy",), "only lambda routes choose proxy or custom integration", "remove proxy"
                )
            for key in CUSTOM_ONLY:
                if getattr(route, key) is not None and (route.integration != "lambda" or route.proxy):
                    yield doc.diagnostic(
                        at + (key,),
                        f"'{key}' is read by a lambda route with proxy: false only",
                        f"set integration: lambda and proxy: false, or remove {key}",
                        key=True,
                    )
            yield from _error_problems(route, at, doc)


def _error_problems(route: Route, at: tuple, doc: Document) -> Iterator[Diagnostic]:
    for pattern, status in (route.errors or {}).items():
        where = at + ("errors", pattern)
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            yield doc.diagnostic(
                where,
                f"error pattern '{shown(pattern)}' is not a regular expression: {exc}",
                "API Gateway reads Java regular expressions: keep to the syntax both share, e.g. '.*not found.*'",
                key=True,
            )
            continue
        if compiled.fullmatch(""):
            # API Gateway matches a successful answer's (empty) error too: this pattern would take it.
            # https://docs.aws.amazon.com/apigateway/latest/api/API_IntegrationResponse.html (selectionPattern)
            yield doc.diagnostic(
                where,
                f"error pattern '{shown(pattern)}' matches an empty errorMessage, so it would take "
                "successful answers too",
                "match at least one character, e.g. '.*not found.*' or '[\\s\\S]+' for any error",
                key=True,
            )
        if status not in ERROR_STATUSES:
            yield doc.diagnostic(
                where, f"error status {status} is not a client or server error", "use 400-599, e.g. 404 or 500"
            )


ROUTE_CHECKS = (check_routes, check_lambda_integrations, check_request_schemas)
