"""Each case of cases.py against the real local gateway, plus the cases that take more than
one request (throttling, time queued for a worker)."""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from .binary_cases import BINARY_CASES
from .cases import ABSENT, CASES, KEY, REQUEST_ID, Case, Event, Send
from .validation_cases import VALIDATION_CASES

ALL_CASES = CASES + BINARY_CASES + VALIDATION_CASES


def send(base_url: str, request: Send, key: str | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request with http.client, which sends header names and repeated headers as given."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.putrequest(request.method, url.path + request.path, skip_accept_encoding=True)
        for name, value in request.headers:
            connection.putheader(name, key if value == KEY else value)
        if request.body or request.method in ("POST", "PUT"):
            connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body or None)
        answer = connection.getresponse()
        return answer.status, answer.getheaders(), answer.read()
    finally:
        connection.close()


def lookup(document, dotted: str):
    """The value at `requestContext.identity.sourceIp` in the event, or ABSENT."""
    value = document
    for part in _parts(dotted):
        if not isinstance(value, dict) or part not in value:
            return ABSENT
        value = value[part]
    return value


def _parts(dotted: str) -> list[str]:
    head, _, rest = dotted.partition(".")
    if head in ("headers", "multiValueHeaders", "pathParameters", "queryStringParameters") and rest:
        return [head, rest]  # header names hold dashes and may be any case: one key
    return dotted.split(".")


def header(headers: list[tuple[str, str]], name: str):
    values = [value for key, value in headers if key.lower() == name.lower()]
    return values[-1] if values else ABSENT


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.name for case in ALL_CASES])
def test_case(conformance, case: Case):
    key = conformance["keys"][case.api]
    status, headers, body = send(conformance["urls"][case.api], case.send, key)
    request_id = header(headers, "x-amzn-RequestId")

    def expected(value):
        return {REQUEST_ID: request_id, KEY: key}.get(value, value) if isinstance(value, str) else value

    if isinstance(case.expect, Event):
        assert status == 200, body[:300]
        event = json.loads(body)
        for dotted, value in case.expect.fields.items():
            if isinstance(value, dict):
                value = {k: expected(v) for k, v in value.items()}
            assert lookup(event, dotted) == expected(value), dotted
        return
    expect = case.expect
    assert status == expect.status, body[:300]
    if expect.json is not None:
        assert json.loads(body) == {k: expected(v) for k, v in expect.json.items()}
    for name, value in expect.headers.items():
        assert header(headers, name) == value, name
    for text in expect.text_lacks:
        assert text.encode() not in body
    for dotted, value in expect.fields.items():
        assert lookup(json.loads(body), dotted) == value, dotted
    if expect.body is not None:
        assert body == expect.body


def test_past_the_stage_bucket_requests_are_429(conformance):
    """A bucket of 2 (rate 0.01/s): the third request in a row is throttled."""
    # source: cases.THROTTLING
    url = conformance["urls"]["throttled"]
    statuses = [send(url, Send("GET", "/items/1"))[:3:2] for _ in range(3)]
    assert [status for status, _ in statuses[:2]] == [200, 200]
    status, body = statuses[2]
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})


def test_time_queued_for_a_free_worker_counts_against_the_route_timeout(conformance):
    """Eight calls of 0.8 s on a 1 s route and 4 workers: at least four wait for a worker at
    least 0.8 s and so pass the timeout (504), as API Gateway times the whole integration
    (source: cases.INTEGRATION_TIMEOUT)."""
    url = conformance["urls"]["main"]
    with ThreadPoolExecutor(4) as pool:  # four warm workers first
        assert set(pool.map(lambda _: send(url, Send("GET", "/nap?s=0"))[0], range(4))) == {200}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: send(url, Send("GET", "/nap?s=0.8")), range(8)))
    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {200, 504}
    assert statuses.count(504) >= 4
    timed_out = next(body for status, _, body in answers if status == 504)
    assert json.loads(timed_out) == {"message": "Endpoint request timed out"}
