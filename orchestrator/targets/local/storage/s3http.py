"""The HTTP side of the local S3: requests as S3 reads them, streamed bodies, ranges, answers.

Bodies are never held whole: uploads stream from the socket into the store's temp
file (decoding `aws-chunked` framing, which botocore uses for streamed uploads with
trailing checksums) and downloads stream from the data file in chunks.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from ..asgi import Receive, Send
from .s3xml import http_date
from .store import CHUNK, ObjectMeta, S3Error, Upload

MAX_XML_BODY = 2 * 1024 * 1024
MAX_UPLOAD = 5 * 1024**3  # one PutObject or one part (docs: "Amazon S3 multipart upload limits")
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
RESPONSE_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
    "response-content-language": "content-language",
    "response-cache-control": "cache-control",
    "response-expires": "expires",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class S3Request:
    method: str
    bucket: str | None
    key: str | None
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]  # lower-case names
    request_id: str

    @classmethod
    def from_scope(cls, scope: dict) -> S3Request:
        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw = raw.split("?", 1)[0]
        bucket_part, _, key_part = raw.lstrip("/").partition("/")
        query_string = scope.get("query_string", b"").decode("latin-1")
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        return cls(
            method=scope["method"],
            bucket=unquote(bucket_part) or None,
            key=unquote(key_part) or None,
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            query_string=query_string,
            headers=headers,
            request_id=uuid.uuid4().hex[:16].upper(),
        )

    def metadata(self) -> dict[str, str]:
        return {k[len("x-amz-meta-") :]: v for k, v in self.headers.items() if k.startswith("x-amz-meta-")}

    def stored_headers(self) -> dict[str, str]:
        found = {name: self.headers[name] for name in STORED_HEADERS if name in self.headers}
        encoding = ",".join(e for e in found.get("content-encoding", "").split(",") if e.strip() != "aws-chunked")
        if encoding:
            found["content-encoding"] = encoding
        else:
            found.pop("content-encoding", None)
        return found

    @property
    def chunked(self) -> bool:
        return "aws-chunked" in self.headers.get("content-encoding", "") or self.headers.get(
            "x-amz-content-sha256", ""
        ).startswith("STREAMING-")


class ChunkDecoder:
    """aws-chunked framing: `<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n` ... `0\\r\\n<trailers>\\r\\n`."""

    def __init__(self) -> None:
        self.buffer = b""
        self.remaining = 0
        self.state = "size"

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        out = bytearray()
        while True:
            if self.state == "data":
                take = self.buffer[: self.remaining]
                out += take
                self.buffer = self.buffer[len(take) :]
                self.remaining -= len(take)
                if self.remaining:
                    return bytes(out)
                self.state = "crlf"
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                if len(self.buffer) > 64 * 1024:
                    raise S3Error("IncompleteBody", 400, "The request body is not valid aws-chunked data")
                return bytes(out)
            line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2 :]
            if self.state == "crlf":
                if line:
                    raise S3Error("IncompleteBody", 400, "The request body is not valid aws-chunked data")
                self.state = "size"
            elif self.state == "size":
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise S3Error("IncompleteBody", 400, "The request body is not valid aws-chunked data") from None
                self.state, self.remaining = ("trailer", 0) if size == 0 else ("data", size)
            elif self.state == "trailer" and not line:
                self.state = "done"
                return bytes(out)


def too_large(size: int) -> S3Error:
    return S3Error(
        "EntityTooLarge",
        400,
        "Your proposed upload exceeds the maximum allowed size",
        ProposedSize=str(size),
        MaxSizeAllowed=str(MAX_UPLOAD),
    )


async def read_into(receive: Receive, request: S3Request, upload: Upload) -> None:
    """Stream the request body into `upload`; then check Content-MD5 if the client sent one.

    Over S3's 5 GB for one upload is EntityTooLarge: from the declared size before a byte is
    read, or, for a body of unknown size, before the byte past the limit is written."""
    decoder = ChunkDecoder() if request.chunked else None
    expected = request.headers.get("x-amz-decoded-content-length") if decoder else request.headers.get("content-length")
    if expected is not None and expected.isdigit() and int(expected) > MAX_UPLOAD:
        raise too_large(int(expected))
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified")
        chunk = message.get("body", b"")
        data = decoder.feed(chunk) if decoder and chunk else chunk
        if upload.size + len(data) > MAX_UPLOAD:
            raise too_large(upload.size + len(data))
        if data:
            upload.write(data)
        if not message.get("more_body", False):
            break
    if expected is not None and expected.isdigit() and int(expected) != upload.size:
        raise S3Error("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length")
    md5 = request.headers.get("content-md5")
    if md5 is not None and base64.b64encode(upload.md5.digest()).decode() != md5.strip():
        raise S3Error("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")


async def read_small(receive: Receive) -> bytes:
    """A small body (an XML document), refused past MAX_XML_BODY."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_XML_BODY:
            raise S3Error("MaxMessageLengthExceeded", 400, "Your request was too big.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, length) for a Range header, None for the whole object; InvalidRange if unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None  # S3 ignores a Range it cannot parse and sends the whole object
    first, last = match.groups()
    if first == "":
        length = min(int(last), size)
        if length == 0:
            raise _invalid_range(size)
        return size - length, length
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise _invalid_range(size)
    return start, end - start + 1


def _invalid_range(size: int) -> S3Error:
    return S3Error("InvalidRange", 416, "The requested range is not satisfiable", ActualObjectSize=str(size))


def object_headers(meta: ObjectMeta, query: dict[str, str] | None = None) -> list[tuple[str, str]]:
    headers = {
        "content-type": meta.content_type,
        "etag": f'"{meta.etag}"',
        "last-modified": http_date(meta.last_modified),
        "accept-ranges": "bytes",
        **meta.headers,
    }
    for parameter, header in RESPONSE_OVERRIDES.items():
        if query and parameter in query:
            headers[header] = query[parameter]
    items = list(headers.items())
    items += [(f"x-amz-meta-{k}", v) for k, v in meta.metadata.items()]
    return items


def check_conditions(request: S3Request, meta: ObjectMeta) -> int | None:
    """304 or 412 when a conditional GET/HEAD does not hold, else None."""
    from email.utils import parsedate_to_datetime

    etag = f'"{meta.etag}"'
    if_match = request.headers.get("if-match")
    if if_match is not None and if_match.strip() not in (etag, meta.etag, "*"):
        return 412
    if_none = request.headers.get("if-none-match")
    if if_none is not None and if_none.strip() in (etag, meta.etag, "*"):
        return 304
    for header, status in (("if-unmodified-since", 412), ("if-modified-since", 304)):
        value = request.headers.get(header)
        if value is None or (header == "if-modified-since" and if_none is not None):
            continue
        try:
            moment = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            continue
        modified_after = int(meta.last_modified) > moment
        if (status == 412 and modified_after) or (status == 304 and not modified_after):
            return status
    return None


async def respond(
    send: Send, status: int, headers: list[tuple[str, str]], body: bytes = b"", head: bool = False
) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if not any(k == "content-length" for k, _ in headers):
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def stream_file(
    send: Send, status: int, headers: list[tuple[str, str]], path: Path, start: int, length: int
) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
    if remaining > 0 or length == 0:
        await send({"type": "http.response.body", "body": b""})


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
