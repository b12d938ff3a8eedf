"""Which AWS partition a region is in, and what that changes: ARNs and service host names.

China (`cn-*`) and GovCloud (`us-gov-*`) are partitions of their own: an ARN with
`arn:aws:` names nothing there, and China's endpoints end in `.amazonaws.com.cn`.
Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html and
botocore's partition data (`endpoints.json`: dnsSuffix per partition).
"""

from __future__ import annotations

PARTITIONS = (("cn-", "aws-cn", "amazonaws.com.cn"), ("us-gov-", "aws-us-gov", "amazonaws.com"))


def partition(region: str) -> str:
    """`eu-west-1` -> `aws`, `cn-north-1` -> `aws-cn`, `us-gov-west-1` -> `aws-us-gov`."""
    return next((name for prefix, name, _ in PARTITIONS if region.startswith(prefix)), "aws")


def dns_suffix(region: str) -> str:
    """The host-name suffix of the region's service endpoints."""
    return next((suffix for prefix, _, suffix in PARTITIONS if region.startswith(prefix)), "amazonaws.com")
