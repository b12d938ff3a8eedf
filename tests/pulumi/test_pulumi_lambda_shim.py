"""The wrapper a lambda route's bundle runs as its handler: references resolved and the handler
imported at init, CORS headers on proxy responses by the local gateway's rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from orchestrator.targets import lambda_shim as shim

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


def test_without_cors_the_response_passes_unchanged(tmp_path, monkeypatch):
    (tmp_path / "plain_handler_for_shim.py").write_text("def main(event, context):\n    return {'statusCode': 200}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(shim.HANDLER_VARIABLE, "plain_handler_for_shim.main")
    monkeypatch.delenv(shim.POLICY_VARIABLE, raising=False)
    monkeypatch.setattr(shim, "_handler", None)
    assert shim.handler(event(APP), None) == {"statusCode": 200}


def test_the_users_module_is_imported_at_init_not_at_the_first_request(tmp_path):
    """Lambda imports the handler module in its init phase: the shim imports the user's there too."""
    (tmp_path / "slow_start.py").write_text(
        "import pathlib\npathlib.Path('imported').write_text('yes')\n"
        "def main(event, context):\n    return {'statusCode': 200}\n"
    )
    env = {
        **os.environ,
        shim.HANDLER_VARIABLE: "slow_start.main",
        "PYTHONPATH": f"{tmp_path}:{shim.__file__.rsplit('/', 1)[0]}",
    }
    code = "import lambda_shim, pathlib; print(pathlib.Path('imported').exists())"
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == "True"  # imported with the shim, before any request


class StandInClient:
    """What the runtime's boto3 answers for Parameter Store and Secrets Manager."""

    def __init__(self):
        self.asked: list[tuple[str, dict]] = []

    def get_parameter(self, **kwargs):
        self.asked.append(("get_parameter", kwargs))
        return {"Parameter": {"Value": f"value of {kwargs['Name']}"}}

    def get_secret_value(self, **kwargs):
        self.asked.append(("get_secret_value", kwargs))
        return {"SecretString": json.dumps({"password": "hunter2", "user": "app"})}


def test_references_are_read_at_init_and_only_they_are():
    ssm, secrets = StandInClient(), StandInClient()
    environ = {
        "OPENAI_API_KEY": "{{resolve:ssm:/reviews/openai-key}}",
        "DB_PASSWORD": "{{resolve:secretsmanager:prod/db:SecretString:password}}",
        "DB_SECRET": "{{resolve:secretsmanager:prod/db}}",
        "LOG_LEVEL": "debug",
    }
    shim.resolve_references(environ, {"ssm": ssm, "secretsmanager": secrets})
    assert environ == {
        "OPENAI_API_KEY": "value of /reviews/openai-key",
        "DB_PASSWORD": "hunter2",
        "DB_SECRET": json.dumps({"password": "hunter2", "user": "app"}),
        "LOG_LEVEL": "debug",
    }
    assert ssm.asked == [("get_parameter", {"Name": "/reviews/openai-key", "WithDecryption": True})]
    assert [kwargs["SecretId"] for _, kwargs in secrets.asked] == ["prod/db", "prod/db"]


@pytest.mark.parametrize("origin", [APP, APP + "/"])
def test_trailing_slash_in_spec_or_request_is_tolerated(origin):
    policy = {**LISTED, "allow_origins": [APP]}
    assert shim.allowed_origin(policy, origin) == origin


@pytest.mark.parametrize("custom, message", [("1", "ValueError"), (None, "")])
def test_behind_a_custom_integration_an_error_without_a_message_is_named(tmp_path, monkeypatch, custom, message):
    """API Gateway matches selectionPattern against errorMessage, and an empty one reads as a
    success: `raise ValueError()` would pass every error pattern and answer 200."""
    (tmp_path / "raising_handler_for_shim.py").write_text("def main(event, context):\n    raise ValueError()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(shim.HANDLER_VARIABLE, "raising_handler_for_shim.main")
    monkeypatch.delenv(shim.POLICY_VARIABLE, raising=False)
    if custom:
        monkeypatch.setenv(shim.CUSTOM_VARIABLE, custom)
    else:
        monkeypatch.delenv(shim.CUSTOM_VARIABLE, raising=False)
    monkeypatch.setattr(shim, "_handler", None)
    with pytest.raises(ValueError) as raised:
        shim.handler({}, None)
    assert str(raised.value) == message  # what Lambda's runtime reports as errorMessage
