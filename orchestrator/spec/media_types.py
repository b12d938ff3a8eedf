"""Which media types API Gateway handles as text: every other one is a binary media type.

The API document lists a route's binary types in `x-amazon-apigateway-binary-media-types`,
and a binary body or answer passes through untouched, with no mapping template; `validate`
reads the same rule to refuse what only a template could do (echo a CORS origin).
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


def is_text(media_type: str) -> bool:
    """Whether API Gateway handles a body of this type as text (else it is a binary media type)."""
    media_type = media_type.split(";")[0].strip().lower()
    return media_type.startswith("text/") or media_type in TEXT_TYPES or media_type.endswith(("+json", "+xml"))
