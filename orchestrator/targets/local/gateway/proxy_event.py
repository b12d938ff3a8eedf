"""The API Gateway REST proxy event a Lambda receives, and reading what it returns."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qsl

from ..asgi import Request

ACCOUNT = "123456789012"


class MalformedResult(Exception):
    """The Lambda returned something API Gateway cannot turn into a response."""


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict | None, dict | None]:
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    single = {key: values[-1] for key, values in multi.items()}
    return single, multi


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    request: Request,
    body: bytes,
    stage: str,
    resource: str,
    path: str,
    path_params: dict[str, str],
    request_id: str,
    api_id: str,
) -> dict:
    headers, multi_headers = _multi(_header_case(request.headers))
    query, multi_query = _multi(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
    binary = bool(body) and not _is_text(body)
    if not body:
        event_body = None
    elif binary:
        event_body = base64.b64encode(body).decode("ascii")
    else:
        event_body = body.decode("utf-8")
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


def _header_case(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """HTTP/1.1 servers hand us lower-case names; API Gateway passes them as sent, usually Title-Case."""
    return [("-".join(part.capitalize() for part in key.split("-")), value) for key, value in headers]


def read_result(result: object) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn a proxy integration's return value into status, headers and body."""
    if not isinstance(result, dict):
        raise MalformedResult(f"expected a dict, got {type(result).__name__}")
    allowed = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
    unknown = set(result) - allowed
    if unknown:
        raise MalformedResult(f"unexpected keys {sorted(unknown)}")
    status = result.get("statusCode", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResult(f"statusCode must be an integer HTTP status, got {status!r}")
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResult("headers and multiValueHeaders must be objects")
    for key, value in single.items():
        if key.lower() not in {k.lower() for k in multi}:
            headers.append((str(key), str(value)))
    for key, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResult(f"multiValueHeaders[{key!r}] must be a list")
        headers.extend((str(key), str(v)) for v in values)
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        if result.get("isBase64Encoded"):
            try:
                data = base64.b64decode(body, validate=True)
            except ValueError as exc:
                raise MalformedResult("isBase64Encoded is true but body is not base64") from exc
        else:
            data = body.encode("utf-8")
    else:
        raise MalformedResult(f"body must be a string, got {type(body).__name__}")
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return status, headers, data
