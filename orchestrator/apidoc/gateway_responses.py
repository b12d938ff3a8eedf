"""`x-amazon-apigateway-gateway-responses`: the errors API Gateway raises before (or instead of)
calling an integration, each a JSON body and, with CORS, the headers a browser needs.

Shape: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.html
Types and their default statuses: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..spec.models import Cors
from .cors import gateway_response_parameters
from .templates import GATEWAY_ERROR_BODY

# The types named here keep API Gateway's default status; the two DEFAULT_* types have no
# status of their own (they cover every other 4XX / 5XX response type).
STATUSES: dict[str, str | None] = {
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "ACCESS_DENIED": "403",
    "BAD_REQUEST_BODY": "400",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",  # what an unknown path or method gets on a REST API
    "QUOTA_EXCEEDED": "429",
    # not REQUEST_TOO_LARGE: API Gateway serves its built-in 413 whatever the document says
    # (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html)
    "THROTTLED": "429",
    "UNSUPPORTED_MEDIA_TYPE": "415",
}


def gateway_responses(cors: Cors | None, methods: Iterable[str]) -> dict[str, Any]:
    parameters = gateway_response_parameters(cors, methods) if cors else {}
    responses: dict[str, Any] = {}
    for response_type, status in STATUSES.items():
        response: dict[str, Any] = {"responseTemplates": {"application/json": GATEWAY_ERROR_BODY}}
        if status:
            response["statusCode"] = status
        if parameters:
            response["responseParameters"] = dict(parameters)
        responses[response_type] = response
    return responses
