"""The daemon's side of the protocol: requests and records validated into protocol.py's types.

The client only builds these types, so it stays on the standard library; the daemon,
which trusts nothing it reads from a socket or a file, checks every field with pydantic.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .offdisk import FieldPath, value_at
from .protocol import SERVICES, ProtocolError, ServiceRecord, ServiceRequest


class SecretsMissing(ProtocolError):
    """A record whose ${env:...} values were never written down: only the next PUT can serve it."""


@cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def decode(cls: type, data: Any, what: str) -> Any:
    """`data` as an instance of the protocol type `cls`; ProtocolError naming each wrong field."""
    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(whole)'}: {error['msg']}" for error in exc.errors()
        )
        raise ProtocolError(f"{what} is not a valid {cls.__name__}: {problems}") from None


def decode_put(service: str, body: Any) -> tuple[ServiceRequest, int | None, tuple[FieldPath, ...]]:
    """A PUT's request, the port it asks for (None: any free one) and where its secret values are."""
    if not isinstance(body, dict) or set(body) - {"spec", "port", "secrets"}:
        raise ProtocolError('a PUT body is {"spec": {...}, "port": null or a number, "secrets": [[key, ...], ...]}')
    port = body.get("port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
        raise ProtocolError(f"port must be null or a TCP port, got {port!r}")
    secrets = decode_secrets(body.get("spec"), body.get("secrets") or [], "the request")
    return decode(SERVICES[service], body.get("spec"), "the request"), port, secrets


def decode_secrets(spec: Any, raw: Any, what: str) -> tuple[FieldPath, ...]:
    """The paths of `what`'s secret values; each must lead to a string (or to null, on disk)."""
    paths = decode(list[list[str | int]], raw, f"{what}'s secrets")
    for path in paths:
        try:
            value = value_at(spec, path)
        except (KeyError, IndexError, TypeError):
            value = ...
        if value is not None and not isinstance(value, str):
            raise ProtocolError(f"{what}'s secret {path} does not name a string of its spec")
    return tuple(tuple(path) for path in paths)


def decode_record(service: str, name: str, raw: Any) -> ServiceRecord:
    """One record of services.json (already of this schema version). SecretsMissing when its
    secret values are not in it (as services.json is written): the daemon cannot serve it."""
    what = f"the record of {service}/{name}"
    if not isinstance(raw, dict) or not {"spec", "port"} <= set(raw) <= {"spec", "port", "secrets"}:
        raise ProtocolError(f'{what} is not {{"spec": {{...}}, "port": N, "secrets": [...]}}')
    secrets = decode_secrets(raw["spec"], raw.get("secrets") or [], what)
    port = decode(int, raw["port"], f"{what}'s port")
    if any(value_at(raw["spec"], path) is None for path in secrets):
        raise SecretsMissing(f"{what} holds no value where its spec had ${{env:...}} values")
    return ServiceRecord(decode(SERVICES[service], raw["spec"], what), port, secrets)
