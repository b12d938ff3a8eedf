"""The `aws` and `mock` integrations as the document defines them: request templates under
passthroughBehavior, request parameters, integration responses chosen by selectionPattern,
response parameters, templates and `$context.responseOverride`.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ....spec.media_types import essence
from .proxy_event import is_binary
from .vtl import TemplateError, render

PASSTHROUGH = "$input.body"  # renders to the body itself: skipped, with the same result
SAGEMAKER_URI = re.compile(r":runtime\.sagemaker:path/+endpoints/([^/]+)/invocations$")
LAMBDA_URI = re.compile(r"/functions/(.+)/invocations$")
DEFAULT_TIMEOUT_MS = 29_000


class UnsupportedMediaType(Exception):
    """No request template for the body's type and passthrough is not allowed: 415."""


@dataclass
class Rendering:
    """What templates see of one request, built once and shared by its templates."""

    params: dict[str, dict[str, str]]
    context: dict[str, Any]
    stage_variables: dict[str, str] = field(default_factory=dict)

    def render(self, template: str, body: str) -> str:
        return render(template, body, self.params, self.context, self.stage_variables)


@cache
def _pattern(selection: str) -> re.Pattern:
    return re.compile(selection, re.DOTALL)


def select_response(responses: dict[str, Any], value: str) -> dict[str, Any]:
    """The integration response whose selectionPattern matches `value` (the integration's
    status for AWS and mock integrations) as a whole, else `default`."""
    for selection, response in responses.items():
        if selection != "default" and _pattern(selection).fullmatch(value):
            return response
    return responses.get("default") or {"statusCode": "200"}


def parameter_value(expression: str, request_header: Callable[[str], str | None], integration: dict) -> str | None:
    """'literal', method.request.header.X, or integration.response.header.X."""
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    for prefix, source in (
        ("method.request.header.", request_header),
        ("integration.response.header.", integration.get),
    ):
        if expression.startswith(prefix):
            return source(expression[len(prefix) :].lower())
    return None


def request_payload(integration: dict, content_type: str | None, body: bytes, binary_types, rendering) -> bytes:
    """The integration request's body: the body converted as contentHandling says (the request
    table of the conversions page), through the template for its type where there is one, or as
    it is where passthroughBehavior allows. A template sees text: a binary body only as base64
    (CONVERT_TO_TEXT), else it must be UTF-8. Text becomes bytes again by CONVERT_TO_BINARY
    (base64-decoded) after the template, which is how a JSON field reaches a backend as bytes."""
    templates = integration.get("requestTemplates") or {}
    media = essence(content_type, "application/json")
    template = next((text for key, text in templates.items() if key.lower() == media), None)
    behavior = (integration.get("passthroughBehavior") or "when_no_match").lower()
    if template is None and (behavior == "never" or (behavior == "when_no_templates" and templates)):
        raise UnsupportedMediaType(media)
    handling = integration.get("contentHandling")
    binary = is_binary(content_type, binary_types)
    if template is None:  # passed through, converted only where contentHandling asks
        if binary:
            return base64.b64encode(body) if handling == "CONVERT_TO_TEXT" else body
        return _base64_decoded(body) if handling == "CONVERT_TO_BINARY" else as_text(body)
    if binary and handling == "CONVERT_TO_TEXT":
        text = base64.b64encode(body).decode("ascii")
    elif binary:
        text = _utf8(body)
    else:
        text = body.decode("utf-8", errors="replace")
    rendered = text if template == PASSTHROUGH else rendering().render(template, text)
    if handling == "CONVERT_TO_BINARY" and not binary:
        return _base64_decoded(rendered)
    return rendered.encode("utf-8")


def _utf8(body: bytes) -> str:
    """A binary body a request template is to see: AWS documents no way for a template to see raw
    bytes; failing the call (500, as LocalStack does) beats handing the backend a mangled body."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(
            "a request template over a binary body that is not UTF-8 "
            "(binary bodies pass through only without a template)"
        ) from exc


def as_text(body: bytes) -> bytes:
    """A payload API Gateway handles as text is a UTF-8 string: bytes that are not UTF-8 (a PNG
    sent as a form post) arrive replaced, as they would on AWS, never intact."""
    return body.decode("utf-8", errors="replace").encode("utf-8")


def _base64_decoded(text: str | bytes) -> bytes:
    """CONVERT_TO_BINARY: text taken as base64; API Gateway answers 500 when it is not."""
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise TemplateError("CONVERT_TO_BINARY of a payload that is not base64") from exc


def answers_binary(response: dict, accept: str | None, binary_types) -> bool:
    """Whether the method response body is bytes (the response table of the conversions page):
    CONVERT_TO_BINARY, or no contentHandling and a client whose first Accept is a binary type."""
    handling = response.get("contentHandling")
    return handling == "CONVERT_TO_BINARY" or (handling is None and is_binary(accept, binary_types))


def response_payload(body: bytes, content_type: str | None, to_binary: bool, binary_types) -> bytes:
    """A binary answer (its Content-Type a binary media type) stays bytes or becomes base64
    text; a text answer stays text or is base64-decoded (500 when it is not base64)."""
    if is_binary(content_type, binary_types):
        return body if to_binary else base64.b64encode(body)
    return _base64_decoded(body) if to_binary else as_text(body)


def integration_headers(integration: dict, request_header) -> dict[str, str]:
    headers = {}
    for name, expression in (integration.get("requestParameters") or {}).items():
        if name.startswith("integration.request.header."):
            value = parameter_value(expression, request_header, {})
            if value is not None:
                headers[name[len("integration.request.header.") :].lower()] = value
    return headers


def method_response(
    response: dict,
    body: bytes,
    integration_headers: dict[str, str],
    request_header,
    rendering,
    binary_types: tuple[str, ...] = (),
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the method response an integration response maps to. The
    body is converted first; a template then sees text only (API Gateway fails the call, 500,
    when a template meets bytes: binary answers pass through without one)."""
    status = int(response.get("statusCode") or 200)
    headers: list[tuple[str, str]] = []
    for name, expression in (response.get("responseParameters") or {}).items():
        if name.startswith("method.response.header."):
            value = parameter_value(expression, request_header, integration_headers)
            if value is not None:
                headers.append((name[len("method.response.header.") :], value))
    to_binary = answers_binary(response, request_header("accept"), binary_types)
    data = response_payload(body, integration_headers.get("content-type"), to_binary, binary_types)
    templates = response.get("responseTemplates") or {}
    if templates:  # one template per response in the documents apidoc writes; the client's Accept is not consulted
        template = next(iter(templates.values()))
        view = rendering()
        override = view.context["responseOverride"]
        if to_binary:
            raise TemplateError("a response template over a binary body (bytes pass through only without one)")
        if template != PASSTHROUGH:
            data = view.render(template, data.decode("latin-1")).encode("latin-1", errors="replace")
        for name, value in override["header"].items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, str(value))]
        if override.get("status"):
            status = int(override["status"])
    return status, headers, data


def mock_status(integration: dict, rendering) -> str:
    """The status a mock integration's request template names ({"statusCode": 200})."""
    template = (integration.get("requestTemplates") or {}).get("application/json")
    if template is None:
        return "200"
    try:
        return str(json.loads(rendering().render(template, "")).get("statusCode", 200))
    except (ValueError, AttributeError) as exc:
        raise TemplateError(f"mock request template did not render a statusCode: {exc}") from exc


def sagemaker_endpoint(integration: dict) -> str | None:
    match = SAGEMAKER_URI.search(integration.get("uri") or "")
    return match.group(1) if match else None


def lambda_arn(integration: dict) -> str | None:
    match = LAMBDA_URI.search(integration.get("uri") or "")
    return match.group(1) if match else None


def timeout_s(integration: dict) -> float:
    return int(integration.get("timeoutInMillis") or DEFAULT_TIMEOUT_MS) / 1000
