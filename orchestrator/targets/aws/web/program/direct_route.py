"""A `direct` route: API Gateway calls SageMaker's InvokeEndpoint itself (no Lambda).

Request and response bodies pass through untouched for JSON and CSV; the
endpoint's Content-Type is mapped back so CSV answers stay CSV. Errors from the
endpoint map to 400/500 instead of a misleading 200.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .api_context import ApiContext, method
from .naming import logical_name, sagemaker_invoke_uri
from .settings import RouteSettings

PASSTHROUGH_TEMPLATES = {"application/json": "$input.body", "text/csv": "$input.body"}
# status code sent to the client -> API Gateway selection pattern on the endpoint's status
STATUS_PATTERNS = {"200": None, "400": r"4\d{2}", "500": r"5\d{2}"}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "") + "'"


def add_direct_route(
    ctx: ApiContext, route: RouteSettings, resource_id: pulumi.Input[str], role: aws.iam.Role
) -> list[pulumi.Resource]:
    name = logical_name(ctx.settings.pipeline, ctx.api.stage, route.key)
    api_method = method(ctx, name, resource_id, route.method)
    integration = aws.apigateway.Integration(
        name,
        rest_api=ctx.rest_api.id,
        resource_id=resource_id,
        http_method=api_method.http_method,
        type="AWS",
        integration_http_method="POST",
        uri=sagemaker_invoke_uri(ctx.region, route.endpoint_name),
        credentials=role.arn,
        request_parameters={
            "integration.request.header.Content-Type": _literal(route.content_type),
            "integration.request.header.Accept": _literal(route.accept),
        },
        request_templates=PASSTHROUGH_TEMPLATES,
        passthrough_behavior="WHEN_NO_TEMPLATES",  # other content types get 415, not a mangled body
        timeout_milliseconds=ctx.timeout_ms(route.timeout_s),
    )
    cors = ctx.cors_headers()
    # With an echoed origin the body still passes through: the template only adds a header override.
    templates = dict.fromkeys(PASSTHROUGH_TEMPLATES, cors.echo_template + "$input.body") if cors.echo_template else None
    resources: list[pulumi.Resource] = [api_method, integration]
    for status, pattern in STATUS_PATTERNS.items():
        method_response = aws.apigateway.MethodResponse(
            f"{name}-{status}",
            rest_api=ctx.rest_api.id,
            resource_id=resource_id,
            http_method=api_method.http_method,
            status_code=status,
            response_parameters={
                "method.response.header.Content-Type": True,
                **cors.method_response_parameters(),
            },
        )
        integration_response = aws.apigateway.IntegrationResponse(
            f"{name}-{status}",
            rest_api=ctx.rest_api.id,
            resource_id=resource_id,
            http_method=api_method.http_method,
            status_code=method_response.status_code,
            selection_pattern=pattern,
            response_parameters={
                "method.response.header.Content-Type": "integration.response.header.Content-Type",
                **cors.integration_response_parameters(),
            },
            response_templates=templates,
            opts=pulumi.ResourceOptions(depends_on=[integration]),
        )
        resources += [method_response, integration_response]
    return resources
