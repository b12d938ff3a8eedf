"""Request and response encodings the built-ins share at inference time.

Parsing errors are ValueErrors with messages meant for the caller: the endpoint turns them
into a 4xx answer, as the real containers do.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

CSV = "text/csv"
JSON = "application/json"
JSON_LINES = "application/jsonlines"


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """`application/json; verbose=true` -> ("application/json", {"verbose": "true"})."""
    if not header:
        return "", {}
    parts = header.split(";")
    params = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key.strip():
            params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].strip().lower(), params


def body_text(body: bytes | bytearray | str) -> str:
    if isinstance(body, (bytes, bytearray)):
        try:
            return bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"the request body is not UTF-8 text: {exc}") from None
    return body


def unsupported(kind: str, given: str, supported: Iterable[str]) -> ValueError:
    return ValueError(f"{kind} {given or '(none)'} is not supported; use one of: {', '.join(supported)}")


def content_type_of(content_type: str | None, supported: tuple[str, ...], default: str) -> tuple[str, dict[str, str]]:
    mime, params = media_type(content_type)
    mime = mime or default
    if mime not in supported:
        raise unsupported("Content-Type", mime, supported)
    return mime, params


def accept_of(accept: str | None, supported: tuple[str, ...], default: str) -> tuple[str, dict[str, str]]:
    """A missing or `*/*` Accept means SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else the algorithm's default."""
    mime, params = media_type(accept)
    if not mime or mime == "*/*":
        mime, params = media_type(os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or default)
    if mime not in supported:
        raise unsupported("Accept", accept or mime, supported)
    return mime, params


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the request body is not valid JSON: {exc}") from None


def _features_of(record: Any, where: str) -> list[Any]:
    """`{"features": [...]}` or the verbose `{"data": {"features": {"values": [...]}}}` form."""
    if isinstance(record, dict):
        if "features" in record:
            return record["features"]
        values = record.get("data", {}).get("features", {}) if isinstance(record.get("data"), dict) else None
        if isinstance(values, dict) and "values" in values:
            return values["values"]
    if isinstance(record, list):  # a bare row of numbers
        return record
    raise ValueError(f'{where} needs "features": [numbers] (or "data": {{"features": {{"values": [...]}}}})')


def _matrix(rows: list[Any], where: str) -> np.ndarray:
    if not rows:
        raise ValueError(f"{where} holds no records")
    try:
        matrix = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: every record must be a list of numbers of the same length") from None
    if matrix.ndim != 2:
        raise ValueError(f"{where}: every record must be a flat list of numbers of the same length")
    return matrix


def dense_rows(body: bytes | str, mime: str) -> np.ndarray:
    """Feature rows from text/csv, application/json (`instances`) or application/jsonlines."""
    text = body_text(body)
    if mime == CSV:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
        try:
            numbers = [[float(cell) for cell in row] for row in rows]
        except ValueError:
            raise ValueError("the CSV body must hold numbers only: no header, no label column") from None
        return _matrix(numbers, "the CSV body")
    if mime == JSON:
        payload = parse_json(text)
        if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
            raise ValueError('the JSON body needs "instances": [{"features": [...]}, ...]')
        return _matrix([_features_of(record, "each instance") for record in payload["instances"]], "instances")
    if mime == JSON_LINES:
        records = [parse_json(line) for line in text.splitlines() if line.strip()]
        return _matrix([_features_of(record, "each JSON line") for record in records], "the JSON lines body")
    raise ValueError(f"no row reader for {mime}")


def check_width(rows: np.ndarray, expected: int) -> None:
    if rows.shape[1] != expected:
        raise ValueError(f"each record needs {expected} features, got {rows.shape[1]}")


def json_lines(records: Iterable[Any]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)
