"""`x-amazon-apigateway-integration` objects: how API Gateway answers each method.

Shapes: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration.html
(lower-case `type` and `passthroughBehavior`, as AWS's own exports write them).
"""

from __future__ import annotations

from typing import Any

from ..spec.media_types import is_text
from ..spec.models import Route
from .cors import CorsHeaders, quoted
from .templates import MOCK_OK, PASSTHROUGH_BODY, error_body
from .values import partition

# API Gateway accepts integration timeouts from 50 ms to 29 s.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS = 50, 29_000

# SageMaker's error statuses -> what a public caller gets. The pattern is matched against the
# integration's HTTP status for AWS integrations (against errorMessage for Lambda ones):
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration-responses.html
# InvokeEndpoint answers 400 (validation), 424 (ModelError), 429 (not ready), 5xx (its own failures).
DIRECT_ERRORS: dict[str, tuple[str, str]] = {
    r"4\d{2}": ("400", "The model could not process the request"),
    r"5\d{2}": ("500", "The model endpoint failed to answer"),
}


# What a text answer carries in an API with binary media types, so it reaches every client as text.
TEXT_ANSWER = {"contentHandling": "CONVERT_TO_TEXT"}


def timeout_ms(timeout_s: float) -> int:
    return max(MIN_TIMEOUT_MS, min(MAX_TIMEOUT_MS, round(timeout_s * 1000)))


def lambda_invoke_uri(region: str, function_arn: str) -> str:
    """The Lambda service path API Gateway POSTs to (the example in the integration page above)."""
    return f"arn:{partition(region)}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def sagemaker_invoke_uri(region: str, endpoint_name: str) -> str:
    """InvokeEndpoint as an AWS-integration path. The double slash is what the aws program has
    deployed and served with; AWS's CDK writes a single one, and both reach the same path."""
    return f"arn:{partition(region)}:apigateway:{region}:runtime.sagemaker:path//endpoints/{endpoint_name}/invocations"


def lambda_proxy(route: Route, region: str, function_arn: str) -> dict[str, Any]:
    """`aws_proxy`: the function gets the REST proxy event and its answer is the response."""
    return {
        "type": "aws_proxy",
        "httpMethod": "POST",  # Lambda's Invoke is always a POST, whatever the route's method
        "uri": lambda_invoke_uri(region, function_arn),
        "passthroughBehavior": "when_no_match",
        "timeoutInMillis": timeout_ms(route.timeout_s),
    }


def direct_sagemaker(route: Route, region: str, role_arn: str, cors: CorsHeaders, binary_api: bool) -> dict[str, Any]:
    """`aws`: API Gateway calls InvokeEndpoint itself with the route's Content-Type and Accept.

    A text route has a template for its content type only and passthrough `never`, so any
    other body (a form post) is refused with 415 before the model sees it:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
    A binary route has no template and no contentHandling: API Gateway passes a binary body
    through unmodified only so (its type in binaryMediaTypes, passthrough enabled), while a
    template would see the body as text. The price: no 415 for other types there.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
    """
    binary = not is_text(route.content_type)
    integration: dict[str, Any] = {
        "type": "aws",
        "httpMethod": "POST",
        "uri": sagemaker_invoke_uri(region, route.endpoint),
        "credentials": role_arn,
        "requestParameters": {
            "integration.request.header.Content-Type": quoted(route.content_type),
            "integration.request.header.Accept": quoted(route.accept),
        },
        "passthroughBehavior": "when_no_match" if binary else "never",
        "timeoutInMillis": timeout_ms(route.timeout_s),
        "responses": direct_responses(route, cors, binary_api),
    }
    if not binary:
        integration["requestTemplates"] = {route.content_type: PASSTHROUGH_BODY}
    return integration


def direct_responses(route: Route, cors: CorsHeaders, binary_api: bool) -> dict[str, Any]:
    """Success passes the model's body and Content-Type through; errors become a generic body.

    A binary answer passes with no template and no contentHandling: the client gets the bytes
    when its first Accept is a binary media type, base64 text otherwise. Every text answer of
    an API that has binary media types (a text route's, any route's error body) is
    CONVERT_TO_TEXT: with no contentHandling, API Gateway base64-decodes a text answer for a
    client whose first Accept is a binary type, and fails the call (500) on JSON.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
    """
    binary_answer = not is_text(route.accept)  # then the API has binary types: this one among them
    text = TEXT_ANSWER if binary_api else {}
    ok: dict[str, Any] = {
        "statusCode": "200",
        "responseParameters": {
            "method.response.header.Content-Type": "integration.response.header.Content-Type",
            **cors.parameters(),
        },
        **({} if binary_answer else text),
    }
    if cors.echo_template and not binary_answer:  # the body still passes; the template only adds the override
        ok["responseTemplates"] = {route.accept: cors.echo_template + PASSTHROUGH_BODY}
    responses = {"default": ok}
    for pattern, (status, message) in DIRECT_ERRORS.items():
        responses[pattern] = {
            "statusCode": status,
            "responseParameters": {
                "method.response.header.Content-Type": quoted("application/json"),
                **cors.parameters(),
            },
            "responseTemplates": {"application/json": cors.echo_template + error_body(message)},
            **text,
        }
    return responses


def preflight_mock(cors: CorsHeaders) -> dict[str, Any]:
    """`mock`: API Gateway answers an OPTIONS preflight itself (no backend, no API key)."""
    answer: dict[str, Any] = {"statusCode": "200", "responseParameters": cors.parameters()}
    if cors.echo_template:
        answer["responseTemplates"] = {"application/json": cors.echo_template}
    return {
        "type": "mock",
        "requestTemplates": {"application/json": MOCK_OK},
        "passthroughBehavior": "when_no_match",
        "responses": {"default": answer},
    }
