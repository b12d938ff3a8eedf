"""The Lambda custom (non-proxy) integration as the document defines it: `aws` to a function.

The request template makes the event; the function's return value is the integration's body,
its error document (errorMessage, errorType, stackTrace) the body of a failed call. The
integration response is the one whose selectionPattern matches the whole errorMessage (an
empty one for a success), else `default`: an error nothing matches answers 200 with the
error document, as API Gateway does.
https://docs.aws.amazon.com/apigateway/latest/developerguide/handle-errors-in-lambda-integration.html
https://docs.aws.amazon.com/apigateway/latest/api/API_IntegrationResponse.html (selectionPattern)
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from ...lambda_shim import error_message
from ..lambdas.pool import FunctionError, FunctionPool, LambdaFailed
from . import integrations as aws
from .vtl import TemplateError

# What a worker that died or never started reports as its error, as Lambda's runtime does.
EXIT_ERROR = "Runtime.ExitError"


@cache
def _pattern(selection: str) -> re.Pattern:
    return re.compile(selection)  # no DOTALL: as in Java's regexes, `.` stops at a newline


def select_by_error(responses: dict[str, Any], error_message: str) -> dict[str, Any]:
    """The integration response whose selectionPattern matches the whole errorMessage, else `default`."""
    for selection, response in responses.items():
        if selection != "default" and _pattern(selection).fullmatch(error_message):
            return response
    return responses.get("default") or {"statusCode": "200"}


def event_of(payload: bytes) -> Any:
    """The event Lambda gets: the rendered template, which must be JSON (Lambda takes no other)."""
    try:
        return json.loads(payload or b"{}")
    except ValueError as exc:
        raise TemplateError(f"the request template did not render JSON for Lambda: {exc}") from exc


async def invoke(pool: FunctionPool, event: Any, request_id: str, timeout_s: float) -> tuple[str, bytes]:
    """(errorMessage, the integration's body): ("", the return value) or (the error's message, its document).
    LambdaTimeout passes through: API Gateway's own timeout answers that one (504)."""
    try:
        result = await pool.invoke(event, request_id, timeout_s)
    except FunctionError as exc:  # with the message the deployed wrapper gives it (lambda_shim.error_message)
        error = dict(exc.error)
        error["errorMessage"] = error_message(str(error.get("errorType", "")), str(error.get("errorMessage") or ""))
        return error["errorMessage"], json.dumps(error).encode()
    except LambdaFailed as exc:  # the sandbox died (out of memory, exited) or never started
        error = {"errorMessage": f"RequestId: {request_id} Error: {exc}", "errorType": EXIT_ERROR}
        return error["errorMessage"], json.dumps(error).encode()
    return "", json.dumps(result).encode()


async def answer(
    pool: FunctionPool, integration: dict, request, body: bytes, binary_types, rendering, request_id: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for one request through a custom Lambda integration."""
    payload = aws.request_payload(integration, request.header("content-type"), body, binary_types, rendering)
    error_message, result = await invoke(pool, event_of(payload), request_id, aws.timeout_s(integration))
    response = select_by_error(integration.get("responses") or {}, error_message)
    return aws.method_response(response, result, {}, request.header, rendering, binary_types)
