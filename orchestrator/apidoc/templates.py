"""The VTL mapping templates the document carries, rendered by API Gateway on AWS and by
airspeed-ext locally. Reference: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
"""

from __future__ import annotations

import json
from collections.abc import Iterable

# The request body as the client sent it: SageMaker gets the bytes, the route's Content-Type
# header is set by a request parameter, not by the template.
PASSTHROUGH_BODY = "$input.body"

# A Lambda custom integration's event: the JSON body as the client sent it (`{}` for none).
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html
LAMBDA_EVENT = "$input.json('$')"

# A mapped function error: the message the function raised (what its author chose to say),
# never the stack trace Lambda's error document carries beside it.
LAMBDA_ERROR_BODY = '{"message": $input.json(\'$.errorMessage\'), "requestId": "$context.requestId"}'

# A mock integration answers with the status its request template names.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html
MOCK_OK = '{"statusCode": 200}'

# Gateway responses: `messageString` is already a quoted JSON string.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
GATEWAY_ERROR_BODY = '{"message":$context.error.messageString}'


def error_body(message: str) -> str:
    """What a public caller gets for a failed model call: a generic message and the request id
    to quote to the owner. Never SageMaker's own body: it carries `OriginalMessage` (the
    model's traceback) and `LogStreamArn` (account id, log group)."""
    return '{"message": ' + json.dumps(message) + ', "requestId": "$context.requestId"}'


def origin_echo(allow_origins: Iterable[str]) -> str:
    """Sets Access-Control-Allow-Origin (and Vary) to the request's Origin when it is allowed.
    API Gateway's static header values cannot echo, a response override can:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html
    """
    origins = [origin.rstrip("/") for origin in allow_origins]
    allowed = "true" if "*" in origins else " || ".join(f"$origin == {json.dumps(o)}" for o in origins)
    return (
        '#set($origin = $input.params().header.get("Origin"))\n'
        '#if(!$origin)#set($origin = $input.params().header.get("origin"))#end\n'
        f"#if($origin && ({allowed}))\n"
        "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n"
        '#set($context.responseOverride.header.Vary = "Origin")\n'
        "#end\n"
    )
