"""The `api` step as ONE OpenAPI 3 document with API Gateway's extensions.

Both targets serve exactly this document: the aws program deploys it as the REST API's
body (a Deployment keyed by `document_hash`), the local gateway interprets it. What it
cannot express stays out of both. Standard library and the spec models only, so
`plan` and `export` stay fast and import no cloud SDK.

    values = ApiValues(title=..., region=..., lambda_arns={route_key(r): arn, ...}, invoke_role_arn=...)
    document = compile_document(api_step, values)
    text, digest = document_json(document), document_hash(document)
"""

from .document import ApiDocError, compile_document, document_hash, document_json
from .values import ApiValues, offline_values, resolve_refs, route_key

__all__ = [
    "ApiDocError",
    "ApiValues",
    "compile_document",
    "document_hash",
    "document_json",
    "offline_values",
    "resolve_refs",
    "route_key",
]
