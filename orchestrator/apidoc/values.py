"""What the document needs beyond the spec: ARNs and names only a target knows.

Each target supplies its own (`ApiValues`): the aws program the deployed functions'
ARNs and the invoke role, the local target its own ARN-shaped names, `export` the
offline ones below. References in the step (`${steps.deploy.outputs.endpoint_name}`)
are resolved before compiling, by `resolve_refs`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..spec.models import ApiStep, EndpointStep, Pipeline, Route
from ..spec.names import endpoint_name
from ..spec.refs import REF

# The account a document names before any deploy: the one local AWS emulators use
# (moto, LocalStack). A deployed document carries the real account instead.
OFFLINE_ACCOUNT = "000000000000"
MAX_FUNCTION_NAME = 64  # Lambda's limit


@dataclass(frozen=True)
class ApiValues:
    """Resolved values a target passes in: plain strings, so both targets can supply theirs."""

    title: str  # the REST API's name (`info.title`)
    region: str
    lambda_arns: Mapping[str, str] = field(default_factory=dict)  # route_key -> function ARN, lambda routes
    invoke_role_arn: str | None = None  # the role API Gateway assumes to call SageMaker (direct routes)


def route_key(route: Route) -> str:
    """How a route is named across targets and outputs: `POST /predict`."""
    return f"{route.method} {route.path}"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def slug(text: str) -> str:
    """`POST /items/{id}` -> `post-items-id`: safe in any AWS name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "root"


def function_name(*parts: str) -> str:
    """A Lambda name from readable parts, cut to Lambda's limit; a cut name keeps a digest of the
    whole so two long routes stay distinct."""
    name = "-".join(parts)
    if len(name) <= MAX_FUNCTION_NAME:
        return name
    return name[: MAX_FUNCTION_NAME - 7].rstrip("-") + "-" + hashlib.sha256(name.encode()).hexdigest()[:6]


def resolve_refs(step: ApiStep, outputs: Mapping[str, Mapping[str, str]]) -> ApiStep:
    """The step with every `${steps.S.outputs.K}` that `outputs` knows replaced by its value.
    Unknown references stay; `compile_document` refuses them where the document needs them."""

    def substitute(value: Any) -> Any:
        if isinstance(value, str):
            return REF.sub(lambda m: outputs.get(m.group(1), {}).get(m.group(2), m.group(0)), value)
        if isinstance(value, list):
            return [substitute(item) for item in value]
        if isinstance(value, dict):
            return {key: substitute(item) for key, item in value.items()}
        return value

    return ApiStep.model_validate(substitute(step.model_dump()))


def static_outputs(pipeline: Pipeline) -> dict[str, dict[str, str]]:
    """Outputs known from the spec alone: every endpoint's name is derived, not chosen by the cloud."""
    return {
        name: {"endpoint_name": endpoint_name(pipeline.name, name, step.endpoint_name)}
        for name, step in pipeline.steps.items()
        if isinstance(step, EndpointStep)
    }


def offline_values(pipeline: Pipeline, step_name: str, api: ApiStep) -> ApiValues:
    """ARN-shaped values for a document made without a deploy (`export`): the pipeline's own
    names in account OFFLINE_ACCOUNT; a deploy substitutes the real functions and role."""
    region = pipeline.region
    arn = f"arn:{partition(region)}"
    prefix = f"{pipeline.name}-{step_name}"
    lambdas = {
        route_key(
            route
        ): f"{arn}:lambda:{region}:{OFFLINE_ACCOUNT}:function:{function_name(prefix, slug(route_key(route)))}"
        for route in api.routes
        if route.integration == "lambda"
    }
    direct = any(route.integration == "direct" for route in api.routes)
    role = f"{arn}:iam::{OFFLINE_ACCOUNT}:role/{prefix}-direct" if direct else None
    return ApiValues(title=f"{pipeline.name}-{api.stage}", region=region, lambda_arns=lambdas, invoke_role_arn=role)
