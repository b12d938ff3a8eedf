"""The stage's routes and gateway responses, read from the API's OpenAPI document.

Each path item's operations become a resource's methods (`x-amazon-apigateway-any-method`
is ANY); what API Gateway answers itself comes from `x-amazon-apigateway-gateway-responses`,
DEFAULT_4XX/5XX standing in for every type the document leaves out, as on AWS:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .request_validation import Models, body_models
from .routing import Router
from .vtl import render

ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

# Each error API Gateway raises itself: its response type, default status and message.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
ERRORS: dict[str, tuple[str, int, str]] = {
    "missing_token": ("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token"),
    "forbidden": ("INVALID_API_KEY", 403, "Forbidden"),
    "throttled": ("THROTTLED", 429, "Too Many Requests"),
    "quota": ("QUOTA_EXCEEDED", 429, "Limit Exceeded"),
    "too_large": ("REQUEST_TOO_LARGE", 413, "Request Too Long"),
    "media_type": ("UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported Media Type"),
    "bad_body": ("BAD_REQUEST_BODY", 400, "Invalid request body"),
    "timeout": ("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out"),
    "internal": ("DEFAULT_5XX", 502, "Internal server error"),  # a failed or malformed Lambda answer
    "integration_failure": ("INTEGRATION_FAILURE", 504, "Internal server error"),
    "server": ("DEFAULT_5XX", 500, "Internal server error"),  # a template that does not render
}
# Response types API Gateway does not let a document customize: their built-in answer, always.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
FIXED_RESPONSES = frozenset({"REQUEST_TOO_LARGE"})
ERROR_TYPES = {  # x-amzn-ErrorType, where API Gateway sends one
    "BAD_REQUEST_BODY": "BadRequestException",  # as captured in LocalStack's AWS-validated gateway responses
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "INVALID_API_KEY": "ForbiddenException",
    "THROTTLED": "TooManyRequestsException",
    "QUOTA_EXCEEDED": "LimitExceededException",
}


@dataclass(frozen=True)
class Operation:
    method: str  # GET, POST, ..., ANY, OPTIONS
    resource: str  # the path template, e.g. /items/{id}
    integration: dict[str, Any]
    api_key_required: bool
    models: Models = field(default_factory=dict, compare=False)  # compiled request models, by media type


def read_routes(document: dict[str, Any]) -> Router[Operation]:
    router: Router[Operation] = Router()
    for path, item in (document.get("paths") or {}).items():
        for key, op in item.items():
            method = "ANY" if key == ANY_METHOD else key.upper() if key in HTTP_METHODS else None
            if method is None or INTEGRATION not in op:
                continue
            required = any(requirement for requirement in op.get("security") or [])
            models = body_models(document, op)
            router.add(method, path, Operation(method, path, op[INTEGRATION], required, models))
    return router


def header_value(expression: str, request_header) -> str | None:
    """A response parameter's value: a 'literal', or the request header a mapping names."""
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    prefix = "method.request.header."
    if expression.startswith(prefix):
        return request_header(expression[len(prefix) :])
    return None


class GatewayResponses:
    def __init__(self, document: dict[str, Any]):
        self.responses: dict[str, dict[str, Any]] = document.get("x-amazon-apigateway-gateway-responses") or {}

    def answer(
        self, error: str, context: dict, request_header, message: str | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body of the gateway response for `error` (a key of ERRORS)."""
        response_type, status, default_message = ERRORS[error]
        message = message or default_message
        fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        if response_type in FIXED_RESPONSES:
            response: dict[str, Any] = {}
        else:
            response = self.responses.get(response_type) or self.responses.get(fallback) or {}
        status = int(response.get("statusCode") or status)
        headers = [("content-type", "application/json")]
        if response_type in ERROR_TYPES:
            headers.append(("x-amzn-ErrorType", ERROR_TYPES[response_type]))
        for name, expression in (response.get("responseParameters") or {}).items():
            value = header_value(expression, request_header)
            if value is not None and name.startswith("gatewayresponse.header."):
                headers.append((name[len("gatewayresponse.header.") :], value))
        template = (response.get("responseTemplates") or {}).get("application/json")
        error_context = {
            **context,
            "error": {"message": message, "messageString": json.dumps(message), "responseType": response_type},
        }
        if template is None:
            body = json.dumps({"message": message}).encode()
        else:
            body = render(template, "", {"path": {}, "querystring": {}, "header": {}}, error_context, {}).encode()
        return status, headers, body
