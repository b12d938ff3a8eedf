"""Resource names and ARNs, in one place so every component spells them the same way.

Pulumi names most resources itself: the logical name, "-" and 7 random characters
(pulumi-aws' autonaming), and the provider fails when that is longer than the AWS
limit of the resource's type. So a logical name leaves room for those 8 characters
within the limit of the type it names (`NAME_LIMITS`), suffixes such as `-role` included.
"""

from __future__ import annotations

import hashlib
import re

from ...partitions import dns_suffix, partition

AUTONAME_CHARS = 8  # "-" + 7 random characters
# The longest name AWS takes for each kind of resource Pulumi names for the program.
ROLE = 64  # IAM role names (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html)
FUNCTION = 64  # Lambda function names (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html)
BUCKET = 63  # S3 bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)
INLINE_POLICY = (
    128  # IAM inline policy names (https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html)
)
UNNAMED = 64  # resources AWS gives no name of ours (deployments, permissions): only unique
# The stage's access log: `orchestrator logs` reads the same group on aws.
ACCESS_LOG_GROUP = "/aws/apigateway/{pipeline}-{stage}/access"

__all__ = ["ACCESS_LOG_GROUP", "dns_suffix", "logical_name", "partition", "slug"]


def slug(text: str) -> str:
    """`POST /items/{id}` -> `post-items-id`: safe in any AWS name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "root"


def logical_name(*parts: str, limit: int = UNNAMED) -> str:
    """A readable logical name that, with autonaming's 8 characters, fits a name of `limit` characters."""
    room = limit - AUTONAME_CHARS
    name = "-".join(slug(part) for part in parts if part)
    if len(name) <= room:
        return name
    # Cut, but keep names distinct: two long routes must not collide.
    return name[: room - 7].rstrip("-") + "-" + hashlib.sha256(name.encode()).hexdigest()[:6]


def endpoint_arn(region: str, account_id: str, endpoint_name: str) -> str:
    """SageMaker lower-cases endpoint names in ARNs; IAM matches ARNs exactly."""
    return f"arn:{partition(region)}:sagemaker:{region}:{account_id}:endpoint/{endpoint_name.lower()}"


def s3_arn(region: str, bucket: str, key: str = "") -> str:
    return f"arn:{partition(region)}:s3:::{bucket}" + (f"/{key}" if key else "")


def execute_api_source_path(method: str, path: str) -> str:
    """The `/METHOD/path` tail of an execute-api ARN: ANY and path parameters become wildcards."""
    verb = "*" if method == "ANY" else method
    resource = re.sub(r"\{[^}]+\}", "*", path)
    return f"/{verb}{resource}"
