"""What every route builder needs to know about the API it joins."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cors import CorsHeaders, response_headers
from .settings import ApiSettings, Settings


@dataclass
class ApiContext:
    settings: Settings
    api: ApiSettings
    rest_api: aws.apigateway.RestApi
    account_id: str

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def api_key_required(self) -> bool:
        return self.api.api_key is not None

    def timeout_ms(self, timeout_s: float) -> int:
        """API Gateway integration timeout: 50 ms to 29 s."""
        return max(50, min(29000, round(timeout_s * 1000)))

    def cors_headers(self) -> CorsHeaders:
        """What real responses of mapped integrations carry (nothing when CORS is off)."""
        return response_headers(self.api.cors)


def method(ctx: ApiContext, name: str, resource_id: pulumi.Input[str], http_method: str) -> aws.apigateway.Method:
    """A route's method: open (no authorizer) unless the API asks for an API key."""
    return aws.apigateway.Method(
        name,
        rest_api=ctx.rest_api.id,
        resource_id=resource_id,
        http_method=http_method,
        authorization="NONE",
        api_key_required=ctx.api_key_required,
    )
