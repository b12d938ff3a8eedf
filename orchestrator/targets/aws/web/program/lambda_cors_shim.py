"""Shipped inside a lambda route's bundle when the API has CORS: API Gateway cannot add
headers to Lambda proxy responses, so this wraps the route's handler (unchanged)
and adds them, by the same rules as the local gateway. A handler that sets its
own Access-Control-Allow-Origin is left alone.

Standard library only: it runs in the Lambda runtime, not in the Pulumi program.
Configured by ORCHESTRATOR_HANDLER (module.function) and ORCHESTRATOR_CORS (JSON).
"""

from __future__ import annotations

import importlib
import json
import os

HANDLER_VARIABLE = "ORCHESTRATOR_HANDLER"
POLICY_VARIABLE = "ORCHESTRATOR_CORS"


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


def _load():
    module, _, function = os.environ[HANDLER_VARIABLE].rpartition(".")
    return getattr(importlib.import_module(module), function), json.loads(os.environ[POLICY_VARIABLE])


_handler = None
_policy: dict = {}


def handler(event, context):
    global _handler, _policy
    if _handler is None:
        _handler, _policy = _load()
    return with_cors(_handler(event, context), _policy, event)
