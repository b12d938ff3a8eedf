"""`invoke --route`: a concrete path picks the route API Gateway would pick."""

from __future__ import annotations

import pytest

from orchestrator.commands.invoke_routes import pick_route
from orchestrator.errors import UsageError
from orchestrator.spec.models import ApiStep


def api(*routes: str) -> ApiStep:
    listed = []
    for route in routes:
        method, path = route.split(" ")
        listed.append({"method": method, "path": path, "integration": "direct", "endpoint": "ep"})
    return ApiStep.model_validate({"type": "api", "routes": listed})


STEP = api("GET /items/{id}", "GET /items/new", "ANY /items/{id}", "GET /files/{proxy+}", "POST /predict")


@pytest.mark.parametrize(
    ("given", "route", "sent"),
    [
        ("GET /items/new", "GET /items/new", "/items/new"),  # a literal segment beats a parameter
        ("GET /items/42", "GET /items/{id}", "/items/42"),  # the route's own method beats ANY
        ("DELETE /items/42", "ANY /items/{id}", "/items/42"),
        ("get /files/a/b%2Fc.txt?x=1", "GET /files/{proxy+}", "/files/a/b%2Fc.txt?x=1"),  # sent as given
        ("POST /predict/", "POST /predict", "/predict/"),
    ],
)
def test_a_concrete_path_picks_the_most_specific_route(given, route, sent):
    picked = pick_route("api", STEP, given, has_body=False)
    assert (f"{picked.route.method} {picked.route.path}", picked.path) == (route, sent)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("GET /files", "--route 'GET /files' matches no route of api step 'api'"),  # a greedy part needs a segment
        ("GET /items/42/more", "--route 'GET /items/42/more' matches no route of api step 'api'"),
        ("FETCH /predict", "--route 'FETCH /predict' is not METHOD /path"),
        ("POST predict", "--route 'POST predict' is not METHOD /path"),
    ],
)
def test_what_matches_no_route_is_refused_naming_the_routes(given, message):
    with pytest.raises(UsageError) as caught:
        pick_route("api", STEP, given, has_body=False)
    assert caught.value.message == message
    assert caught.value.hint.endswith(
        "routes: GET /items/{id}, GET /items/new, ANY /items/{id}, GET /files/{proxy+}, POST /predict"
    )


def test_the_only_route_needs_no_route_unless_its_path_has_parameters():
    picked = pick_route("api", api("ANY /predict"), None, has_body=True)
    assert (picked.method, picked.path) == ("POST", "/predict")
    assert pick_route("api", api("ANY /predict"), None, has_body=False).method == "GET"
    with pytest.raises(UsageError) as caught:
        pick_route("api", api("GET /hello/{name}"), None, has_body=False)
    assert caught.value.message == "route GET /hello/{name} has path parameters: give a concrete path with --route"
    assert caught.value.hint == "e.g. --route 'GET /hello/example'"
