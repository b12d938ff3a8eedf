"""Conformance cases for binary bodies on direct routes, from AWS's binary-support pages.

The `binary` API lists image/png as a binary media type; its routes call a model that answers
what it received (length, SHA-256 and Content-Type, as JSON) or sends the bytes back. The body
is a real PNG whose bytes include 0x00, 0x89 and 0xFF, so no text decoding survives unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

from .cases import GENERIC_400, PASSTHROUGH, Case, Response, Send

PAYLOAD_ENCODINGS = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html"
    " (non-proxy: to pass a binary payload through, contentHandling undefined, its Content-Type in"
    " binaryMediaTypes, passthrough enabled)"
)
CONVERSIONS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 4, height: int = 2) -> bytes:
    """A valid greyscale PNG, its pixels stored uncompressed (0x00 and 0xFF stay in the bytes)."""
    rows = b"".join(b"\x00" + bytes((0xFF if (x + y) % 2 else 0x00) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")


PNG = png()
assert b"\x00" in PNG and b"\xff" in PNG
IMAGE = (("Content-Type", "image/png"),)
AS_TEXT = PNG.decode("utf-8", errors="replace").encode("utf-8")  # what a text payload of these bytes becomes
RECEIVED = {"sha256": hashlib.sha256(PNG).hexdigest(), "length": len(PNG), "content_type": "image/png"}

BINARY_CASES = [
    Case(
        "a binary body reaches the model as the exact bytes",
        PAYLOAD_ENCODINGS + "; " + CONVERSIONS + " (request: binary data, a binary type, undefined -> binary data)",
        Send("POST", "/classify", IMAGE, PNG),
        Response(200, RECEIVED, {"Content-Type": "application/json"}),
        api="binary",
    ),
    Case(
        "a binary answer reaches a client whose Accept is a binary type as the exact bytes",
        CONVERSIONS + " (response: binary data, a binary Accept, undefined -> binary data)",
        Send("POST", "/echo", (*IMAGE, ("Accept", "image/png")), PNG),
        Response(200, headers={"Content-Type": "image/png", "Access-Control-Allow-Origin": "*"}, body=PNG),
        api="binary",
    ),
    Case(
        "a binary answer to a client whose Accept is a text type is base64 text",
        CONVERSIONS + " (response: binary data, a text Accept, undefined -> base64-encoded string)",
        Send("POST", "/echo", (*IMAGE, ("Accept", "application/json")), PNG),
        Response(200, headers={"Content-Type": "image/png"}, body=base64.b64encode(PNG)),
        api="binary",
    ),
    Case(
        "only the first Accept type counts: a binary type later in the list does not",
        CONVERSIONS + " (API Gateway honors only the first Accept media type)",
        Send("POST", "/echo", (*IMAGE, ("Accept", "text/html,image/png")), PNG),
        Response(200, body=base64.b64encode(PNG)),
        api="binary",
    ),
    Case(
        "a model error on a binary route is the generic JSON, also for a binary Accept",
        CONVERSIONS + " (response: text data, a binary Accept, CONVERT_TO_TEXT -> UTF8-encoded string)",
        Send("POST", "/echo", (*IMAGE, ("Accept", "image/png")), b"fail\x00\xff"),
        Response(400, GENERIC_400, {"Content-Type": "application/json"}),
        api="binary",
    ),
    Case(
        "a text answer stays text for a client whose first Accept is a binary type",
        CONVERSIONS + " (response: text data, a binary Accept, CONVERT_TO_TEXT -> UTF8-encoded string; with"
        " contentHandling undefined it would be base64-decoded, a 500 for JSON)",
        Send("POST", "/classify", (*IMAGE, ("Accept", "image/png")), PNG),
        Response(200, RECEIVED, {"Content-Type": "application/json"}),
        api="binary",
    ),
    Case(
        "binary bytes sent under a text type are a UTF-8 string: they arrive replaced, not intact",
        CONVERSIONS + " (request: text data (its type not a binary media type), undefined -> UTF8-encoded string);"
        " curl --data-binary sends application/x-www-form-urlencoded unless told the type",
        Send("POST", "/classify", (("Content-Type", "application/x-www-form-urlencoded"),), PNG),
        Response(
            200, {"sha256": hashlib.sha256(AS_TEXT).hexdigest(), "length": len(AS_TEXT), "content_type": "image/png"}
        ),
        api="binary",
    ),
    Case(
        "a text body to a binary route passes through, sent with the route's Content-Type",
        PASSTHROUGH + " (when_no_match: no template, so no 415); " + CONVERSIONS + " (text data -> UTF8 string)",
        Send("POST", "/classify", (("Content-Type", "application/json"),), b'{"a": 1}'),
        Response(200, {"sha256": hashlib.sha256(b'{"a": 1}').hexdigest(), "length": 8, "content_type": "image/png"}),
        api="binary",
    ),
]
