"""The daemon's side of the protocol: requests and records validated into protocol.py's types.

The client only builds these types, so it stays on the standard library; the daemon,
which trusts nothing it reads from a socket or a file, checks every field with pydantic.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .protocol import SERVICES, ProtocolError, ServiceRecord, ServiceRequest


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


def decode_put(service: str, body: Any) -> tuple[ServiceRequest, int | None]:
    """A PUT's request and the port it asks for (None: any free one)."""
    if not isinstance(body, dict) or set(body) - {"spec", "port"}:
        raise ProtocolError('a PUT body is {"spec": {...}, "port": null or a number}')
    port = body.get("port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
        raise ProtocolError(f"port must be null or a TCP port, got {port!r}")
    return decode(SERVICES[service], body.get("spec"), "the request"), port


def decode_record(service: str, name: str, raw: Any) -> ServiceRecord:
    """One record of services.json (already of this schema version)."""
    what = f"the record of {service}/{name}"
    if not isinstance(raw, dict) or set(raw) != {"spec", "port"}:
        raise ProtocolError(f'{what} is not {{"spec": {{...}}, "port": N}}')
    return ServiceRecord(decode(SERVICES[service], raw["spec"], what), decode(int, raw["port"], f"{what}'s port"))
