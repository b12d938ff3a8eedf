"""Conformance cases of request validation: a route's request_schema is the method's model and its
body-only validator answers BAD_REQUEST_BODY (400 `Invalid request body`) before any integration.

That the integration never ran shows in the answer: `/validated-boom`'s function always raises
(a 502 had it run) and `/validated-direct`'s model error is the document's generic 400 with a
request id, not API Gateway's own body.
"""

from __future__ import annotations

from .cases import ABSENT, INTERNAL, JSON, ORIGIN, PROXY_INPUT, Case, Event, Response, Send

REQUEST_VALIDATION = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html"
)
BAD_REQUEST_BODY = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html"
    " (BAD_REQUEST_BODY, 400); x-amzn-ErrorType as in localstack/localstack's gateway_response.py"
    " (BadRequestBodyError, among the types its AWS-validated tests pinned)"
)
# AWS-validated in LocalStack's suite: a bodiless request to a method whose model has required fields is 400
EMPTY_BODY_CAPTURE = (
    "localstack/localstack tests/aws/services/apigateway/test_apigateway_common.py "
    "(test_api_gateway_request_validator, validated against AWS)"
)
NO_CONTENT_TYPE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html"

# What the routes of conftest.VALIDATED take: the fixture model's rows of numbers.
INSTANCES = {
    "type": "object",
    "required": ["instances"],
    "properties": {"instances": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}},
}
INVALID = {"message": "Invalid request body"}
VALID_BODY = b'{"instances": [[3]]}'

VALIDATION_CASES = [
    Case(
        "a body that fails the model is 400 Invalid request body",
        REQUEST_VALIDATION + "; " + BAD_REQUEST_BODY,
        Send("POST", "/validated", JSON, b'{"rows": [[3]]}'),
        Response(400, INVALID, {"Content-Type": "application/json", "x-amzn-ErrorType": "BadRequestException"}),
    ),
    Case(
        "the 400 carries the gateway responses' CORS headers, so a browser can read it",
        BAD_REQUEST_BODY + " (responseParameters of the document's gateway responses)",
        Send("POST", "/validated", (*JSON, *ORIGIN), b'{"instances": "3"}'),
        Response(400, INVALID, {"Access-Control-Allow-Origin": "https://app.example", "Vary": "Origin"}),
    ),
    Case(
        "a body that passes the model reaches the function as sent",
        PROXY_INPUT,
        Send("POST", "/validated", JSON, VALID_BODY),
        Event({"body": VALID_BODY.decode()}),
    ),
    Case(
        "a failing body never reaches the function (this one always raises: 502 had it run)",
        REQUEST_VALIDATION + " (validation fails the request before the integration request)",
        Send("POST", "/validated-boom", JSON, b"{}"),
        Response(400, INVALID, text_lacks=("Internal server error",)),
    ),
    Case(
        "a passing body to the same route does run the function",
        REQUEST_VALIDATION,
        Send("POST", "/validated-boom", JSON, VALID_BODY),
        Response(502, INTERNAL),
    ),
    Case(
        "a failing body never reaches the model of a direct route",
        REQUEST_VALIDATION,
        Send("POST", "/validated-direct", JSON, b'{"instances": [["three"]]}'),
        Response(400, INVALID, fields={"requestId": ABSENT}),
    ),
    Case(
        "a passing body reaches the model of a direct route",
        REQUEST_VALIDATION,
        Send("POST", "/validated-direct", JSON, VALID_BODY),
        Response(200, {"predictions": [1]}),
    ),
    Case(
        "an empty body is validated as {}: a model with required fields refuses it",
        EMPTY_BODY_CAPTURE,
        Send("POST", "/validated", JSON),
        Response(400, INVALID),
    ),
    Case(
        "a body that is not JSON fails the model",
        REQUEST_VALIDATION,
        Send("POST", "/validated", JSON, b"instances=3"),
        Response(400, INVALID),
    ),
    Case(
        "without Content-Type the body is validated as application/json",
        NO_CONTENT_TYPE + " (no Content-Type is taken as application/json)",
        Send("POST", "/validated", (), b'{"rows": []}'),
        Response(400, INVALID),
    ),
    Case(
        "a charset parameter does not change the content type's model",
        REQUEST_VALIDATION,
        Send("POST", "/validated", (("Content-Type", "application/json; charset=utf-8"),), b"[]"),
        Response(400, INVALID),
    ),
    Case(
        "a content type with no model is not validated: the proxy integration passes it through",
        REQUEST_VALIDATION + " (body validation and passthrough behaviour are separate)",
        Send("POST", "/validated", (("Content-Type", "text/plain"),), b"not json at all"),
        Event({"body": "not json at all"}),
    ),
    Case(
        "a preflight is not validated",
        REQUEST_VALIDATION,
        Send("OPTIONS", "/validated", ORIGIN),
        Response(200, headers={"Access-Control-Allow-Origin": "https://app.example"}),
    ),
]
