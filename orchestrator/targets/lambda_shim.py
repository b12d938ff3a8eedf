"""Shipped inside a lambda route's bundle, as the function's handler, when the route needs
more than the user's handler: values kept in SSM Parameter Store or Secrets Manager, or CORS.

At init, in Lambda's init phase (not at the first request, whose time counts against
the route's timeout): environment values written `{{resolve:ssm:NAME}}` or
`{{resolve:secretsmanager:ID}}` (`ID:SecretString:KEY` for one key of a JSON secret)
are read with the runtime's boto3, so the values never sit in the function's
configuration; then the user's module (ORCHESTRATOR_HANDLER, module.function) is
imported. Each request goes to that handler unchanged; with CORS (ORCHESTRATOR_CORS,
JSON) its proxy response gets the headers API Gateway cannot add to Lambda proxy
responses, by the same rules as the local gateway. A handler that sets its own
Access-Control-Allow-Origin is left alone. Behind a custom (`proxy: false`) integration
(ORCHESTRATOR_CUSTOM), an error raised with no message gets its type as the message:
API Gateway picks the status by matching errorMessage, and an empty one reads as a
success there, so `raise ValueError()` would answer 200 with the stack trace.

Standard library only, plus boto3 when a reference is resolved (the runtime has it).
"""

from __future__ import annotations

import importlib
import json
import os
import re

HANDLER_VARIABLE = "ORCHESTRATOR_HANDLER"
POLICY_VARIABLE = "ORCHESTRATOR_CORS"
CUSTOM_VARIABLE = "ORCHESTRATOR_CUSTOM"
REFERENCE = re.compile(r"^\{\{resolve:(ssm|secretsmanager):(.+)\}\}$")


def resolve_references(environ, clients=None) -> None:
    """Replace every `{{resolve:...}}` value of `environ` with what it names (clients: service -> boto3 client)."""
    clients = {} if clients is None else clients
    for key, value in list(environ.items()):
        match = REFERENCE.match(value)
        if not match:
            continue
        service, name = match.groups()
        if service not in clients:
            import boto3

            clients[service] = boto3.client(service)
        environ[key] = _read(clients[service], service, name)


def _read(client, service: str, name: str) -> str:
    if service == "ssm":
        return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    secret, _, json_key = name.partition(":SecretString:")
    value = client.get_secret_value(SecretId=secret)["SecretString"]
    return str(json.loads(value)[json_key]) if json_key else value


def policy_of(cors) -> dict:
    """The policy ORCHESTRATOR_CORS carries, from an api's cors settings (allow_origins,
    allow_credentials, expose_headers): the aws program writes it into the function's
    environment and the local gateway applies it to the same answers."""
    return {
        "allow_origins": [origin.rstrip("/") for origin in cors.allow_origins],
        "allow_credentials": cors.allow_credentials,
        "expose_headers": list(cors.expose_headers),
    }


def allowed_origin(policy: dict, origin: str | None) -> str | None:
    any_origin = "*" in policy["allow_origins"]
    if any_origin and not policy.get("allow_credentials"):
        return "*"
    if not origin:
        return None
    if any_origin or origin.rstrip("/") in policy["allow_origins"]:
        return origin  # credentials forbid "*", so the origin is echoed
    return None


def cors_headers(policy: dict, event: dict) -> dict[str, str]:
    request_headers = {str(k).lower(): v for k, v in ((event or {}).get("headers") or {}).items()}
    origin = allowed_origin(policy, request_headers.get("origin"))
    if origin is None:
        return {}
    headers = {"Access-Control-Allow-Origin": origin}
    if origin != "*":
        headers["Vary"] = "Origin"
    if policy.get("allow_credentials"):
        headers["Access-Control-Allow-Credentials"] = "true"
    if policy.get("expose_headers"):
        headers["Access-Control-Expose-Headers"] = ",".join(policy["expose_headers"])
    return headers


def with_cors(response, policy: dict, event: dict):
    """The handler's proxy response plus CORS headers, unless it chose its own."""
    if not isinstance(response, dict):
        return response
    own = {k.lower() for k in (response.get("headers") or {})} | {
        k.lower() for k in (response.get("multiValueHeaders") or {})
    }
    if "access-control-allow-origin" in own:
        return response
    extra = {k: v for k, v in cors_headers(policy, event).items() if k.lower() not in own}
    if not extra:
        return response
    return {**response, "headers": {**(response.get("headers") or {}), **extra}}


def error_message(error_type: str, message: str) -> str:
    """The errorMessage a custom integration matches: the error's own, else its type's name."""
    return message or error_type


def load(environ=os.environ):
    """(the user's handler, the CORS policy or None), after resolving the environment's references."""
    resolve_references(environ)
    module, _, function = environ[HANDLER_VARIABLE].rpartition(".")
    policy = json.loads(environ[POLICY_VARIABLE]) if environ.get(POLICY_VARIABLE) else None
    return getattr(importlib.import_module(module), function), policy


_handler = None
_policy: dict | None = None
if HANDLER_VARIABLE in os.environ:  # in Lambda: at init, so the first request pays for none of it
    _handler, _policy = load()


def handler(event, context):
    global _handler, _policy
    if _handler is None:
        _handler, _policy = load()
    try:
        response = _handler(event, context)
    except Exception as exc:
        if os.environ.get(CUSTOM_VARIABLE) and not str(exc):
            exc.args = (error_message(type(exc).__name__, ""),)
        raise
    return with_cors(response, _policy, event) if _policy else response
