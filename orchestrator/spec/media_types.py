"""Which of a route's media types the API document lists as binary media types, and parsing them.

API Gateway treats as binary exactly the types an API's `binaryMediaTypes` lists, and every
other one as text; which to list is this project's choice: a direct route's type that is not
text (`text/*`, JSON, XML, forms, and JSON lines, which SageMaker's containers take as text).
A binary body or answer passes through untouched, with no mapping template; `validate` reads
the same rule to refuse what only a template could do (echo a CORS origin).
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
"""

from __future__ import annotations

# Text beyond text/*, +json and +xml: the types SageMaker's containers and API clients send as text.
TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/jsonlines",
    "application/x-ndjson",
)


def essence(media_type: str | None, default: str = "") -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`; `default` when there is none."""
    return (media_type or default).split(";")[0].strip().lower()


def is_text(media_type: str) -> bool:
    """Whether the document leaves this type as text (else it lists it as a binary media type)."""
    media_type = essence(media_type)
    return media_type.startswith("text/") or media_type in TEXT_TYPES or media_type.endswith(("+json", "+xml"))
