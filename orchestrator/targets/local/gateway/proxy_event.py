"""The API Gateway REST proxy event a Lambda receives, and reading what it returns.

As REST APIs do: `path` and `pathParameters` percent-encoded as sent, header names as sent
with every value in `multiValueHeaders`, `X-Forwarded-*` added, the body base64 only for a
binary media type; `statusCode` a number or a numeric string.
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
"""

from __future__ import annotations

import base64
import time
from fnmatch import fnmatchcase
from urllib.parse import parse_qsl

from ....spec.media_types import essence
from ..asgi import Request

ACCOUNT = "123456789012"
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # synchronous invocation payload (Lambda quotas)


class MalformedResult(Exception):
    """The Lambda returned something API Gateway cannot turn into a response."""


def is_binary(media_type: str | None, binary_types: tuple[str, ...]) -> bool:
    """Whether a Content-Type (or an Accept's first type) is one of the document's binary media types."""
    if not media_type or not binary_types:
        return False
    media = essence(media_type.split(",")[0])
    return any(fnmatchcase(media, pattern.lower()) for pattern in binary_types)


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict | None, dict | None]:
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    single = {key: values[-1] for key, values in multi.items()}
    return single, multi


def forwarded(request: Request, port: int) -> list[tuple[str, str]]:
    """The headers as sent, plus the X-Forwarded-* API Gateway's edge adds."""
    headers = list(request.raw_headers)
    names = {name.lower(): i for i, (name, _) in enumerate(headers)}
    if "x-forwarded-for" in names:
        name, value = headers[names["x-forwarded-for"]]
        headers[names["x-forwarded-for"]] = (name, f"{value}, {request.client_ip}")
    else:
        headers.append(("X-Forwarded-For", request.client_ip))
    for name, value in (("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", str(port))):
        if name.lower() not in names:
            headers.append((name, value))
    return headers


def build_event(
    request: Request,
    body: bytes,
    stage: str,
    resource: str,
    path: str,
    path_params: dict[str, str],
    request_id: str,
    api_id: str,
    port: int,
    binary_types: tuple[str, ...] = (),
) -> dict:
    headers, multi_headers = _multi(forwarded(request, port))
    query, multi_query = _multi(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
    binary = bool(body) and is_binary(request.header("content-type"), binary_types)
    if not body:
        event_body = None
    elif binary:
        event_body = base64.b64encode(body).decode("ascii")
    else:
        event_body = body.decode("utf-8", errors="replace")
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "body": event_body,
        "isBase64Encoded": binary,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "resourceId": resource,
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": request.client_ip, "userAgent": request.header("user-agent")},
            "domainName": request.header("host", "127.0.0.1"),
        },
    }


def _status(value: object) -> int:
    """A number or a numeric string, as API Gateway accepts (`"200"`); anything else is malformed."""
    if isinstance(value, bool):
        raise MalformedResult(f"statusCode must be an integer HTTP status, got {value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or not 100 <= value <= 599:
        raise MalformedResult(f"statusCode must be an integer HTTP status, got {value!r}")
    return value


def read_result(
    result: object, accept: str | None = None, binary_types: tuple[str, ...] = ()
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn a proxy integration's return value into status, headers and body. A base64 body
    is decoded only when the answer's type or the client's Accept is a binary media type;
    otherwise API Gateway passes the base64 text as it is."""
    if not isinstance(result, dict):
        raise MalformedResult(f"expected a dict, got {type(result).__name__}")
    allowed = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"}
    unknown = set(result) - allowed
    if unknown:
        raise MalformedResult(f"unexpected keys {sorted(unknown)}")
    status = _status(result.get("statusCode", 200))
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResult("headers and multiValueHeaders must be objects")
    in_multi = {k.lower() for k in multi}
    for key, value in single.items():
        if key.lower() not in in_multi:
            headers.append((str(key), str(value)))
    for key, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResult(f"multiValueHeaders[{key!r}] must be a list")
        headers.extend((str(key), str(v)) for v in values)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    content_type = next(v for k, v in headers if k.lower() == "content-type")
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        decode = result.get("isBase64Encoded") and (
            is_binary(content_type, binary_types) or is_binary(accept, binary_types)
        )
        if decode:
            try:
                data = base64.b64decode(body, validate=True)
            except ValueError as exc:
                raise MalformedResult("isBase64Encoded is true but body is not base64") from exc
        else:
            data = body.encode("utf-8")
    else:
        raise MalformedResult(f"body must be a string, got {type(body).__name__}")
    return status, headers, data
