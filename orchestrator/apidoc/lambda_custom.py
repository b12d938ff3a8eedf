"""A `proxy: false` lambda route: API Gateway's Lambda custom (non-proxy) integration.

The integration is `aws` with the function's invoke URI. A request template makes the event
(by default the JSON body itself); what the function returns is the 200 body. A function
error is chosen among the integration responses by matching each `selectionPattern`, a
regex over the whole errorMessage; an error no pattern matches takes the default response,
so it answers 200 with Lambda's error document as body, as API Gateway does:
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/handle-errors-in-lambda-integration.html
CORS headers come from the integration responses, as for direct routes: the function's
answer is a body here, not a proxy response the shared wrapper could add headers to.
"""

from __future__ import annotations

from typing import Any

from ..spec.models import Route
from .cors import CorsHeaders, quoted
from .integrations import TEXT_ANSWER, lambda_invoke_uri, timeout_ms
from .templates import LAMBDA_ERROR_BODY, LAMBDA_EVENT, PASSTHROUGH_BODY, error_body

JSON = "application/json"
# `errors:` left out: every function error is a 500 with a generic body (the error document
# holds the stack trace). `[\s\S]` is any character in Java's and Python's regexes alike,
# and `+` keeps the pattern off a successful answer's empty errorMessage.
ANY_ERROR = r"[\s\S]+"


def lambda_custom(route: Route, region: str, function_arn: str, cors: CorsHeaders, binary_api: bool) -> dict[str, Any]:
    """`aws` to Lambda's Invoke: the event from the JSON body, the answer from its return value.

    Only JSON bodies have a template and passthrough is `when_no_templates`, so another
    type (a form post) is 415 before the function runs: Lambda takes JSON events only.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
    """
    return {
        "type": "aws",
        "httpMethod": "POST",  # Lambda's Invoke is always a POST, whatever the route's method
        "uri": lambda_invoke_uri(region, function_arn),
        "requestTemplates": {JSON: route.request_template or LAMBDA_EVENT},
        "passthroughBehavior": "when_no_templates",
        "timeoutInMillis": timeout_ms(route.timeout_s),
        "responses": custom_responses(route, cors, binary_api),
    }


def custom_responses(route: Route, cors: CorsHeaders, binary_api: bool) -> dict[str, Any]:
    """The return value passes through as the 200 body; each mapped error gets its status and
    `{"message": errorMessage, "requestId": ...}`; the catch-all default error a generic message.
    Every answer is JSON: in an API with binary media types it is CONVERT_TO_TEXT (integrations.py)."""
    parameters = {"method.response.header.Content-Type": quoted(JSON), **cors.parameters()}
    text = TEXT_ANSWER if binary_api else {}
    ok: dict[str, Any] = {"statusCode": "200", "responseParameters": dict(parameters), **text}
    if cors.echo_template:  # the body still passes through; the template only adds the override
        ok["responseTemplates"] = {JSON: cors.echo_template + PASSTHROUGH_BODY}
    responses: dict[str, Any] = {"default": ok}

    def error(status: int, body: str) -> dict[str, Any]:
        return {
            "statusCode": str(status),
            "responseParameters": dict(parameters),
            "responseTemplates": {JSON: cors.echo_template + body},
            **text,
        }

    if route.errors is None:
        responses[ANY_ERROR] = error(500, error_body("Internal server error"))
    for pattern, status in (route.errors or {}).items():
        responses[pattern] = error(status, LAMBDA_ERROR_BODY)
    return responses
