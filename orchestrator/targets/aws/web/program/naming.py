"""Resource names and ARNs, in one place so every component spells them the same way."""

from __future__ import annotations

import hashlib
import re

# Pulumi appends "-" and 7 random characters to auto-named resources; IAM roles
# and Lambda functions allow 64 characters in all.
MAX_LOGICAL_NAME = 56


def slug(text: str) -> str:
    """`POST /items/{id}` -> `post-items-id`: safe in any AWS name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "root"


def logical_name(*parts: str) -> str:
    """A readable logical name short enough for auto-naming to stay within AWS limits."""
    name = "-".join(slug(part) for part in parts if part)
    if len(name) <= MAX_LOGICAL_NAME:
        return name
    # Cut, but keep names distinct: two long routes must not collide.
    return name[: MAX_LOGICAL_NAME - 7].rstrip("-") + "-" + hashlib.sha256(name.encode()).hexdigest()[:6]


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def endpoint_arn(region: str, account_id: str, endpoint_name: str) -> str:
    """SageMaker lower-cases endpoint names in ARNs; IAM matches ARNs exactly."""
    return f"arn:{partition(region)}:sagemaker:{region}:{account_id}:endpoint/{endpoint_name.lower()}"


def sagemaker_invoke_uri(region: str, endpoint_name: str) -> str:
    """API Gateway's AWS-integration URI for InvokeEndpoint; the double slash is required."""
    return f"arn:{partition(region)}:apigateway:{region}:runtime.sagemaker:path//endpoints/{endpoint_name}/invocations"


def execute_api_source_path(method: str, path: str) -> str:
    """The `/METHOD/path` tail of an execute-api ARN: ANY and path parameters become wildcards."""
    verb = "*" if method == "ANY" else method
    resource = re.sub(r"\{[^}]+\}", "*", path)
    return f"/{verb}{resource}"
