"""CORS exactly as the `cors:` block says: preflights, allowed and foreign origins, errors."""

from __future__ import annotations

import httpx
import httpx as real_httpx
import pytest

from .conftest import api_spec, api_step, lambda_route

APP = "https://app.example"
ROUTES = [
    {"method": "POST", "path": "/invocations", "integration": "direct", "endpoint": "ep-main"},
    lambda_route("POST", "/boom", "boom"),
    lambda_route("GET", "/echo/{id}", "echo"),
    lambda_route("GET", "/own-cors", "own_cors"),
    lambda_route("GET", "/bad-headers", "bad_headers"),
]


@pytest.fixture(scope="module")
def apis(cloud, files):
    client = cloud["client"]
    configs = {
        "listed": {"allow_origins": [APP], "expose_headers": ["X-Single"], "max_age_s": 300},
        "any": {"allow_origins": ["*"], "allow_methods": ["POST", "GET"]},
        "credentials": {"allow_origins": ["*"], "allow_credentials": True},
    }
    urls = {}
    for name, cors in configs.items():
        answer = client.put(f"cors-{name}", api_spec(api_step(ROUTES, cors), files["root"]))
        urls[name] = f"http://127.0.0.1:{answer.port}/prod"
    yield urls
    for name in configs:
        client.delete("apis", f"cors-{name}")


@pytest.fixture(scope="module", autouse=True)
def http():
    global httpx  # the module's calls go through one client with a generous timeout
    with real_httpx.Client(timeout=30) as client:
        httpx = client
        yield client
        httpx = real_httpx


def post(url: str, origin: str | None):
    headers = {"Origin": origin} if origin else {}
    return httpx.post(f"{url}/invocations", json={"instances": [[3]]}, headers=headers)


def test_an_allowed_origin_is_echoed(apis):
    answer = post(apis["listed"], APP)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["vary"] == "Origin"
    assert answer.headers["access-control-expose-headers"] == "X-Single"
    assert "access-control-allow-credentials" not in answer.headers


def test_a_foreign_origin_gets_no_allow_header(apis):
    answer = post(apis["listed"], "https://evil.example")
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


def test_preflight_answers_with_the_route_methods_and_headers(apis):
    answer = httpx.options(
        f"{apis['listed']}/invocations", headers={"Origin": APP, "Access-Control-Request-Method": "POST"}
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    # The document's preflight for a path names that path's methods (POST here), not the API's.
    assert answer.headers["access-control-allow-methods"] == "POST,OPTIONS"
    assert answer.headers["access-control-allow-headers"] == "Content-Type,X-Amz-Date,Authorization,X-Api-Key"
    assert answer.headers["access-control-max-age"] == "300"


def test_preflight_for_a_foreign_origin_allows_nothing(apis):
    answer = httpx.options(f"{apis['listed']}/invocations", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200
    # A mock integration's static headers are sent whatever the origin; without Allow-Origin
    # the browser still refuses the call (the Fetch standard's CORS check).
    assert "access-control-allow-origin" not in answer.headers
    assert "vary" not in answer.headers


def test_preflight_on_a_path_without_routes_is_403(apis):
    answer = httpx.options(f"{apis['listed']}/elsewhere", headers={"Origin": APP})
    assert answer.status_code == 403
    assert answer.headers["access-control-allow-origin"] == APP


def test_errors_carry_cors_headers_too_except_a_413(apis):
    boom = httpx.post(f"{apis['listed']}/boom", json={}, headers={"Origin": APP})
    missing = httpx.get(f"{apis['listed']}/nothing", headers={"Origin": APP})
    too_big = httpx.post(
        f"{apis['listed']}/invocations", content=b"x" * (10 * 1024 * 1024 + 5), headers={"Origin": APP}
    )
    for answer, status in ((boom, 502), (missing, 403)):
        assert answer.status_code == status
        assert answer.headers["access-control-allow-origin"] == APP
    # but not a 413: API Gateway serves its built-in REQUEST_TOO_LARGE whatever the document
    # customizes (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html)
    assert (too_big.status_code, too_big.json()) == (413, {"message": "Request Too Long"})
    assert not [name for name in too_big.headers if name.lower().startswith("access-control-")]


def test_star_allows_any_origin_with_a_literal_star(apis):
    assert post(apis["any"], "https://anyone.example").headers["access-control-allow-origin"] == "*"
    assert post(apis["any"], None).headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(f"{apis['any']}/invocations", headers={"Origin": "https://x.example"})
    assert preflight.headers["access-control-allow-methods"] == "GET,POST,OPTIONS"


def test_credentials_echo_the_origin_instead_of_star(apis):
    answer = post(apis["credentials"], "https://anyone.example")
    assert answer.headers["access-control-allow-origin"] == "https://anyone.example"
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in post(apis["credentials"], None).headers


def test_a_lambda_that_sets_its_own_cors_header_is_not_doubled(apis):
    answer = httpx.get(f"{apis['any']}/own-cors", headers={"Origin": APP})
    assert answer.headers.get_list("access-control-allow-origin") == ["https://own.example"]


def test_a_lambda_answer_gets_the_headers_the_deployed_wrapper_adds(apis):
    # API Gateway adds no CORS header to a Lambda proxy answer; on aws the function runs behind
    # targets/lambda_shim.py, which adds them by these rules, so the local answer carries the same.
    allowed = httpx.get(f"{apis['listed']}/echo/1", headers={"Origin": APP})
    assert allowed.status_code == 201  # the echo handler's own status
    assert allowed.headers["access-control-allow-origin"] == APP
    assert allowed.headers["vary"] == "Origin"
    assert allowed.headers["access-control-expose-headers"] == "X-Single"
    foreign = httpx.get(f"{apis['listed']}/echo/1", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 201 and "access-control-allow-origin" not in foreign.headers
    assert httpx.get(f"{apis['any']}/echo/1").headers["access-control-allow-origin"] == "*"


def test_a_lambda_answer_with_malformed_headers_is_502_with_cors_too(apis):
    # Lambda's answer fails API Gateway's proxy checks before any header is added: 502, not a crash.
    answer = httpx.get(f"{apis['listed']}/bad-headers", headers={"Origin": APP})
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}
    assert answer.headers["x-amzn-requestid"]
