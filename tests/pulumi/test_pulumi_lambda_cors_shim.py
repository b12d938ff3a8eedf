"""The shim that adds CORS headers to Lambda proxy responses, by the local gateway's rules."""

from __future__ import annotations

import json

import pytest

from orchestrator.targets.aws.web.program import lambda_cors_shim as shim

APP = "https://app.example"
LISTED = {"allow_origins": [APP], "allow_credentials": False, "expose_headers": ["X-Single"]}
ANY = {"allow_origins": ["*"], "allow_credentials": False, "expose_headers": []}
ANY_WITH_CREDENTIALS = {"allow_origins": ["*"], "allow_credentials": True, "expose_headers": []}
OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def event(origin: str | None) -> dict:
    return {"headers": {"origin": origin} if origin else {}}


def test_an_allowed_origin_is_echoed():
    answer = shim.with_cors(OK, LISTED, event(APP))
    assert answer["headers"] == {
        "Content-Type": "application/json",
        "Access-Control-Allow-Origin": APP,
        "Vary": "Origin",
        "Access-Control-Expose-Headers": "X-Single",
    }
    assert answer["body"] == "{}" and answer["statusCode"] == 200


def test_a_foreign_origin_gets_no_headers():
    assert shim.with_cors(OK, LISTED, event("https://evil.example")) == OK


def test_star_answers_star_even_without_origin():
    assert shim.with_cors(OK, ANY, event(None))["headers"]["Access-Control-Allow-Origin"] == "*"


def test_credentials_echo_instead_of_star():
    headers = shim.with_cors(OK, ANY_WITH_CREDENTIALS, event("https://anyone.example"))["headers"]
    assert headers["Access-Control-Allow-Origin"] == "https://anyone.example"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert shim.with_cors(OK, ANY_WITH_CREDENTIALS, event(None)) == OK


def test_a_handler_that_sets_its_own_header_is_left_alone():
    own = {"statusCode": 200, "headers": {"access-control-allow-origin": "https://own.example"}, "body": ""}
    assert shim.with_cors(own, ANY, event(APP)) == own


def test_non_dict_answers_pass_through():
    assert shim.with_cors("plain", ANY, event(APP)) == "plain"


def test_handler_wraps_the_users_function(tmp_path, monkeypatch):
    (tmp_path / "user_handler_for_shim.py").write_text(
        "def lambda_handler(event, context):\n    return {'statusCode': 201, 'body': context}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(shim.HANDLER_VARIABLE, "user_handler_for_shim.lambda_handler")
    monkeypatch.setenv(shim.POLICY_VARIABLE, json.dumps(LISTED))
    monkeypatch.setattr(shim, "_handler", None)
    answer = shim.handler(event(APP), "ctx")
    assert answer["statusCode"] == 201 and answer["body"] == "ctx"
    assert answer["headers"]["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize("origin", [APP, APP + "/"])
def test_trailing_slash_in_spec_or_request_is_tolerated(origin):
    policy = {**LISTED, "allow_origins": [APP]}
    assert shim.allowed_origin(policy, origin) == origin
