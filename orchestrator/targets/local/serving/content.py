"""Default request decoding and response encoding, as the scikit-learn container does."""

from __future__ import annotations

import csv
import io
import json
from typing import Any


class RequestRejected(Exception):
    """A body, content type or accept the default handlers cannot serve (a 4xx)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _base(media_type: str | None) -> str:
    return (media_type or "").split(";", 1)[0].strip().lower()


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _instances(data: Any) -> Any:
    if isinstance(data, dict):
        if "instances" not in data:
            raise ValueError('expected {"instances": [...]} or a JSON list')
        data = data["instances"]
    if isinstance(data, list):
        return [row["features"] if isinstance(row, dict) and "features" in row else row for row in data]
    raise ValueError('expected {"instances": [...]} or a JSON list')


def decode_input(body: bytes, content_type: str) -> Any:
    media = _base(content_type)
    if media not in ("application/json", "", "application/jsonlines", "text/csv"):
        raise RequestRejected(415, f"content type {content_type} is not supported by the default input_fn")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        if media == "text/csv":
            return [[_number(cell) for cell in row] for row in csv.reader(io.StringIO(text)) if row]
        if media == "application/jsonlines":
            return _instances([json.loads(line) for line in text.splitlines() if line.strip()])
        return _instances(json.loads(text))
    except ValueError as exc:  # JSON and UTF-8 errors are ValueErrors: the client's fault
        raise RequestRejected(400, f"cannot parse the {media or 'request'} body: {exc}") from exc


def _plain(prediction: Any) -> Any:
    return prediction.tolist() if hasattr(prediction, "tolist") else prediction


def encode_output(prediction: Any, accept: str) -> tuple[bytes, str]:
    media = _base(accept)
    values = _plain(prediction)
    if media in ("application/json", "*/*", ""):
        return json.dumps({"predictions": values}).encode("utf-8"), "application/json"
    if media == "text/csv":
        rows = values if isinstance(values, list) else [values]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in rows:
            writer.writerow(row if isinstance(row, list) else [row])
        return out.getvalue().encode("utf-8"), "text/csv"
    raise RequestRejected(406, f"accept {accept} is not supported by the default output_fn")


def as_response(result: Any, accept: str) -> tuple[bytes, str]:
    """Normalise what output_fn/transform_fn returned to (bytes, content type)."""
    content_type = accept
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    if isinstance(result, str):
        result = result.encode("utf-8")
    elif not isinstance(result, (bytes, bytearray)):
        result = json.dumps(_plain(result)).encode("utf-8")
    return bytes(result), content_type or "application/octet-stream"
