"""The local gateway's payload conversions, row by row of AWS's tables, without processes.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
(request: method payload x Content-Type x contentHandling; response: integration payload x
the client's Accept x contentHandling; binaryMediaTypes set to image/png throughout).
"""

from __future__ import annotations

import base64

import pytest

from orchestrator.targets.local.gateway import integrations
from orchestrator.targets.local.gateway.vtl import TemplateError

BINARY = ("image/png",)
BYTES = b"\x89PNG\x00\xff\x01"
TEXT = b'{"a": "b"}'


def view() -> integrations.Rendering:
    return integrations.Rendering(
        {"path": {}, "querystring": {}, "header": {}}, {"responseOverride": {"header": {}, "status": None}}
    )


def sent(body: bytes, content_type: str, handling: str | None = None, template: str | None = None) -> bytes:
    integration: dict = {"passthroughBehavior": "when_no_match"}
    if handling:
        integration["contentHandling"] = handling
    if template:
        integration["requestTemplates"] = {content_type: template}
    return integrations.request_payload(integration, content_type, body, BINARY, view)


@pytest.mark.parametrize(
    ("handling", "expected"),
    [(None, BYTES), ("CONVERT_TO_BINARY", BYTES), ("CONVERT_TO_TEXT", base64.b64encode(BYTES))],
)
def test_a_binary_request_without_a_template_is_bytes_unless_converted_to_text(handling, expected):
    assert sent(BYTES, "image/png", handling) == expected


@pytest.mark.parametrize(
    ("body", "handling", "expected"),
    [
        (TEXT, None, TEXT),
        (TEXT, "CONVERT_TO_TEXT", TEXT),
        (base64.b64encode(BYTES), "CONVERT_TO_BINARY", BYTES),  # text taken as base64, decoded
    ],
)
def test_a_text_request_is_text_unless_converted_to_binary(body, handling, expected):
    assert sent(body, "application/json", handling) == expected


def test_converting_text_that_is_not_base64_to_binary_fails_the_call():
    """The conversions page: "If the conversion fails, it returns a 500 response"."""
    with pytest.raises(TemplateError, match="not base64"):
        sent(b"not base64!", "application/json", "CONVERT_TO_BINARY")


def test_a_template_sees_a_binary_body_as_base64_with_convert_to_text():
    """The conversions page: a template "can only access the base64-encoded string ... through $input.body"."""
    assert sent(BYTES, "image/png", "CONVERT_TO_TEXT", '{"data": "$input.body"}') == (
        b'{"data": "' + base64.b64encode(BYTES) + b'"}'
    )


def test_a_template_over_a_binary_body_that_is_not_utf8_fails_rather_than_mangle_it():
    with pytest.raises(TemplateError, match="binary bodies pass through only without a template"):
        sent(BYTES, "image/png", None, "$input.body")


def test_a_template_then_convert_to_binary_sends_a_base64_field_as_bytes():
    body = b'{"file": "' + base64.b64encode(BYTES) + b'"}'
    assert sent(body, "application/json", "CONVERT_TO_BINARY", "$input.path('$.file')") == BYTES


def answered(body: bytes, content_type: str, accept: str | None, handling: str | None = None, template=None):
    response: dict = {"statusCode": "200"}
    if handling:
        response["contentHandling"] = handling
    if template:
        response["responseTemplates"] = {"application/json": template}
    headers = {"accept": accept} if accept else {}
    status, _, data = integrations.method_response(
        response, body, {"content-type": content_type}, headers.get, view, BINARY
    )
    assert status == 200
    return data


@pytest.mark.parametrize(
    ("accept", "handling", "expected"),
    [
        ("image/png", None, BYTES),
        ("application/json", None, base64.b64encode(BYTES)),
        ("application/json", "CONVERT_TO_BINARY", BYTES),
        ("image/png", "CONVERT_TO_BINARY", BYTES),
        ("image/png", "CONVERT_TO_TEXT", base64.b64encode(BYTES)),
        ("application/json", "CONVERT_TO_TEXT", base64.b64encode(BYTES)),
        ("application/json,image/png", None, base64.b64encode(BYTES)),  # only the first Accept type counts
        ("image/png;q=0.9, */*", None, BYTES),
    ],
)
def test_a_binary_answer_by_accept_and_content_handling(accept, handling, expected):
    assert answered(BYTES, "image/png", accept, handling) == expected


@pytest.mark.parametrize(
    ("body", "accept", "handling", "expected"),
    [
        (TEXT, "application/json", None, TEXT),
        (TEXT, "application/json", "CONVERT_TO_TEXT", TEXT),
        (TEXT, "image/png", "CONVERT_TO_TEXT", TEXT),
        (base64.b64encode(BYTES), "image/png", None, BYTES),  # text for a binary Accept: base64-decoded
        (base64.b64encode(BYTES), "application/json", "CONVERT_TO_BINARY", BYTES),
    ],
)
def test_a_text_answer_by_accept_and_content_handling(body, accept, handling, expected):
    assert answered(body, "application/json", accept, handling) == expected


def test_a_text_answer_that_is_not_base64_fails_for_a_binary_accept_without_convert_to_text():
    with pytest.raises(TemplateError, match="not base64"):
        answered(TEXT, "application/json", "image/png")


def test_a_response_template_renders_text_and_refuses_bytes():
    assert answered(TEXT, "application/json", "image/png", "CONVERT_TO_TEXT", '{"wrapped": $input.body}') == (
        b'{"wrapped": {"a": "b"}}'
    )
    with pytest.raises(TemplateError, match="response template over a binary body"):
        answered(BYTES, "image/png", "image/png", None, "$input.body")


def test_without_binary_media_types_every_payload_is_a_utf8_string():
    """The tables' rows with binaryMediaTypes undefined: every payload is a UTF-8 string, so
    bytes that are not UTF-8 arrive replaced (U+FFFD), in both directions; UTF-8 text is untouched."""
    integration = {"passthroughBehavior": "when_no_match"}
    mangled = BYTES.decode("utf-8", errors="replace").encode("utf-8")
    assert mangled != BYTES
    assert integrations.request_payload(integration, "image/png", BYTES, (), view) == mangled
    data = integrations.method_response({"statusCode": "200"}, BYTES, {"content-type": "image/png"}, {}.get, view)[2]
    assert data == mangled
    assert integrations.request_payload(integration, "text/plain", "héllo".encode(), (), view) == "héllo".encode()
