"""Conformance cases: a request in, the event the Lambda gets or the response the caller gets
out, each from an AWS document (or a live capture) named in `source`.

An `Event` case's route answers with the event it received; its `fields` are dotted paths
into that event. `REQUEST_ID` stands for the answer's x-amzn-RequestId, `KEY` for the API's key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROXY_INPUT = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format"
)
PROXY_OUTPUT = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format"
)
ENCODED_CAPTURE = "live API Gateway capture in hotsock/voker#8; aws/chalice#511 and #688 (REST APIs keep encoding)"
LAMBDA_LIMITS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (6 MB synchronous response)"
INTEGRATION_TIMEOUT = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (integration timeout)"
PASSTHROUGH = "https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html"
INTEGRATION_RESPONSES = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "api-gateway-swagger-extensions-integration-responses.html"
)
MAPPING_ACCEPT = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "api-gateway-swagger-extensions-integration-requestParameters.html (Accept set by a static request parameter)"
)
API_KEYS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html"
THROTTLING = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html"
GATEWAY_RESPONSES = "https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html"
MOCK_CORS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html"
LAMBDA_CUSTOM = "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html"
LAMBDA_ERRORS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/handle-errors-in-lambda-integration.html"
LAMBDA_ERROR_DOCUMENT = "https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html"

REQUEST_ID = "<the answer's x-amzn-RequestId>"
KEY = "<the API's key>"
ABSENT = "<absent>"


@dataclass(frozen=True)
class Send:
    method: str
    path: str  # after the stage, as sent (percent-encoding included)
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Event:
    fields: dict[str, Any]


@dataclass(frozen=True)
class Response:
    status: int
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # names case-insensitive; ABSENT: not sent
    text_lacks: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)  # dotted paths into a JSON body, where `json` is too much
    body: bytes | None = None  # the exact bytes, where the body is not JSON


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    send: Send
    expect: Event | Response
    api: str = "main"


GENERIC_400 = {"message": "The model could not process the request", "requestId": REQUEST_ID}
INTERNAL = {"message": "Internal server error"}
JSON = (("Content-Type", "application/json"),)

ORIGIN = (("Origin", "https://app.example"),)

CASES = [
    Case(
        "path and pathParameters stay percent-encoded",
        ENCODED_CAPTURE,
        Send("GET", "/items/My%20internet%20is%20down"),
        Event(
            {
                "path": "/items/My%20internet%20is%20down",
                "pathParameters": {"id": "My%20internet%20is%20down"},
                "resource": "/items/{id}",
                "requestContext.path": "/prod/items/My%20internet%20is%20down",
            }
        ),
    ),
    Case(
        "a greedy parameter keeps its slashes and encoding",
        ENCODED_CAPTURE,
        Send("GET", "/files/a/b%2Bc/d.txt"),
        Event({"pathParameters": {"proxy": "a/b%2Bc/d.txt"}, "resource": "/files/{proxy+}"}),
    ),
    Case(
        "header names keep the case the client sent",
        PROXY_INPUT + " (headers as sent; HTTP/2 clients send lower case)",
        Send("POST", "/items/1", (("content-type", "application/json"), ("X-Custom-Header", "v")), b"{}"),
        Event(
            {
                "headers.content-type": "application/json",
                "headers.X-Custom-Header": "v",
                "headers.Content-Type": ABSENT,
                "multiValueHeaders.content-type": ["application/json"],
            }
        ),
    ),
    Case(
        "a repeated header has every value in multiValueHeaders, the last in headers",
        PROXY_INPUT,
        Send("GET", "/items/1", (("X-Tag", "a"), ("X-Tag", "b"))),
        Event({"headers.X-Tag": "b", "multiValueHeaders.X-Tag": ["a", "b"]}),
    ),
    Case(
        "a repeated query parameter is complete in multiValueQueryStringParameters",
        PROXY_INPUT,
        Send("GET", "/items/1?tag=a&tag=b&one=1"),
        Event(
            {
                "queryStringParameters": {"tag": "b", "one": "1"},
                "multiValueQueryStringParameters": {"tag": ["a", "b"], "one": ["1"]},
            }
        ),
    ),
    Case(
        "requestContext names the stage, the stage's path, the request ids and the caller",
        PROXY_INPUT,
        Send("PUT", "/items/7"),
        Event(
            {
                "httpMethod": "PUT",
                "requestContext.stage": "prod",
                "requestContext.httpMethod": "PUT",
                "requestContext.path": "/prod/items/7",
                "requestContext.resourcePath": "/items/{id}",
                "requestContext.requestId": REQUEST_ID,
                "requestContext.identity.sourceIp": "127.0.0.1",
                "stageVariables": None,
                "isBase64Encoded": False,
            }
        ),
    ),
    Case(
        "API Gateway adds X-Forwarded-For, -Proto and -Port",
        PROXY_INPUT,
        Send("GET", "/items/1"),
        Event({"headers.X-Forwarded-For": "127.0.0.1", "headers.X-Forwarded-Proto": "http"}),
    ),
    Case(
        "a statusCode given as a numeric string is accepted",
        PROXY_OUTPUT,
        Send("GET", "/string-status"),
        Response(202, {}),
    ),
    Case(
        "a Lambda answer over 6 MB is 502",
        LAMBDA_LIMITS,
        Send("GET", "/seven-mb"),
        Response(502, INTERNAL),
    ),
    Case(
        "a handler's exception is 502 with API Gateway's body, not the traceback",
        PROXY_OUTPUT + " (a function error is a 502 Internal server error)",
        Send("POST", "/boom", JSON, b"{}"),
        Response(502, INTERNAL, text_lacks=("a detail that stays in the log",)),
    ),
    Case(
        "a model error behind a direct route is the document's generic 400",
        INTEGRATION_RESPONSES + " (SageMaker's ModelError 424 matches the 4xx selectionPattern)",
        Send("POST", "/invocations", JSON, b'{"rows": 1}'),
        Response(400, GENERIC_400, text_lacks=("OriginalMessage", "LogStreamArn")),
    ),
    Case(
        "a form body to a direct route is refused with 415 before the model sees it",
        PASSTHROUGH + " (passthroughBehavior never, no template for the type)",
        Send("POST", "/invocations", (("Content-Type", "application/x-www-form-urlencoded"),), b"a=1"),
        Response(415, {"message": "Unsupported Media Type"}),
    ),
    Case(
        "a body without Content-Type is taken as application/json",
        PASSTHROUGH,
        Send("POST", "/csv", (), b"0\n3\n"),
        Response(415, {"message": "Unsupported Media Type"}),
    ),
    Case(
        "the client's Accept is ignored on a direct route: the route's Accept is sent",
        MAPPING_ACCEPT,
        Send("POST", "/invocations", (*JSON, ("Accept", "text/csv")), b'{"instances": [[3]]}'),
        Response(200, {"predictions": [1]}, {"Content-Type": "application/json"}),
    ),
    Case(
        "an unknown path is 403 Missing Authentication Token",
        GATEWAY_RESPONSES + " (MISSING_AUTHENTICATION_TOKEN)",
        Send("GET", "/nowhere"),
        Response(
            403,
            {"message": "Missing Authentication Token"},
            {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
        ),
    ),
    Case(
        "a preflight is answered by the mock integration with the path's methods",
        MOCK_CORS,
        Send("OPTIONS", "/invocations", (("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"))),
        Response(
            200,
            headers={
                "Access-Control-Allow-Origin": "https://app.example",
                "Access-Control-Allow-Methods": "POST,OPTIONS",
                "Vary": "Origin",
            },
        ),
    ),
    Case(
        "errors API Gateway raises carry the CORS headers of the gateway responses",
        GATEWAY_RESPONSES + " (DEFAULT_4XX responseParameters)",
        Send("GET", "/nowhere", (("Origin", "https://app.example"),)),
        Response(403, headers={"Access-Control-Allow-Origin": "https://app.example"}),
    ),
    Case(
        "a method that requires an API key is 403 Forbidden without one",
        API_KEYS,
        Send("GET", "/items/1"),
        Response(403, {"message": "Forbidden"}),
        api="keyed",
    ),
    Case(
        "a wrong API key is 403 Forbidden",
        API_KEYS,
        Send("GET", "/items/1", (("x-api-key", "not-the-key"),)),
        Response(403, {"message": "Forbidden"}),
        api="keyed",
    ),
    Case(
        "the usage plan's key in x-api-key is let through",
        API_KEYS,
        Send("GET", "/items/1", (("X-API-Key", KEY),)),
        Event({"headers.X-API-Key": KEY}),
        api="keyed",
    ),
    Case(
        "a preflight needs no API key (browsers send none)",
        MOCK_CORS,
        Send("OPTIONS", "/items/1", (("Origin", "https://any.example"),)),
        Response(200, headers={"Access-Control-Allow-Origin": "*"}),
        api="keyed",
    ),
    Case(
        "a custom integration's event is the JSON body and its return value the 200 body",
        LAMBDA_CUSTOM + " (the default template passes the body through)",
        Send("POST", "/custom", JSON, b'{"data": [1, 2, 3]}'),
        Response(
            200,
            {"prediction": 3, "event": {"data": [1, 2, 3]}},
            {"Content-Type": "application/json", "Access-Control-Allow-Origin": ABSENT},
        ),
    ),
    Case(
        "a request template makes the event from the body and the query string",
        LAMBDA_CUSTOM + " (mapping templates with $input.json and $input.params)",
        Send("POST", "/custom-template?q=x", JSON, b'{"rows": [[3]]}'),
        Response(200, {"prediction": 1, "event": {"data": [[3]], "q": "x"}}),
    ),
    Case(
        "a function error whose errorMessage matches a selectionPattern gets that status",
        LAMBDA_ERRORS + " (selectionPattern matched against errorMessage)",
        Send("POST", "/custom", JSON, b'{"data": "missing"}'),
        Response(404, {"message": "item 7 not found", "requestId": REQUEST_ID}, text_lacks=("stackTrace",)),
    ),
    Case(
        "the patterns are tried against the whole errorMessage: another one picks another status",
        LAMBDA_ERRORS,
        Send("POST", "/custom", JSON, b"{}"),
        Response(400, {"message": "invalid input: no data", "requestId": REQUEST_ID}),
    ),
    Case(
        "an error no pattern matches is 200 with Lambda's error document as body",
        LAMBDA_ERRORS + " (unmapped Lambda errors are returned as 200 OK); " + LAMBDA_ERROR_DOCUMENT,
        Send("POST", "/custom", JSON, b'{"data": "other"}'),
        Response(200, fields={"errorMessage": "something else broke", "errorType": "RuntimeError"}),
    ),
    Case(
        "without errors: every function error is the document's generic 500",
        LAMBDA_ERRORS + " (a catch-all selectionPattern)",
        Send("POST", "/custom-default", JSON, b'{"data": "other"}'),
        Response(500, {"message": "Internal server error", "requestId": REQUEST_ID}, text_lacks=("broke",)),
    ),
    Case(
        "a custom route past its integration timeout is 504, whatever its error patterns",
        INTEGRATION_TIMEOUT,
        Send("POST", "/custom-nap", JSON, b'{"s": 3}'),
        Response(504, {"message": "Endpoint request timed out"}),
    ),
    Case(
        "a non-JSON body to a custom route is 415: Lambda takes JSON events only",
        PASSTHROUGH + " (when_no_templates with a template for application/json only)",
        Send("POST", "/custom", (("Content-Type", "text/plain"),), b"hello"),
        Response(415, {"message": "Unsupported Media Type"}),
    ),
    Case(
        "a custom route's answer carries CORS headers from its integration response",
        MOCK_CORS + " (non-proxy integrations: headers set by the integration response)",
        Send("POST", "/custom", (*JSON, *ORIGIN), b'{"data": []}'),
        Response(200, headers={"Access-Control-Allow-Origin": "https://app.example", "Vary": "Origin"}),
    ),
    Case(
        "a mapped error carries the CORS headers too, so the browser can read it",
        MOCK_CORS + "; " + LAMBDA_ERRORS,
        Send("POST", "/custom", (*JSON, *ORIGIN), b'{"data": "missing"}'),
        Response(404, headers={"Access-Control-Allow-Origin": "https://app.example"}),
    ),
    Case(
        "a foreign origin gets no Access-Control-Allow-Origin from a custom route",
        MOCK_CORS,
        Send("POST", "/custom", (*JSON, ("Origin", "https://evil.example")), b'{"data": []}'),
        Response(200, headers={"Access-Control-Allow-Origin": ABSENT}),
    ),
]
