"""A website bucket's name and origin, decided before Pulumi runs.

An API's CORS may name the site's origin while the site's page calls that API, so the
origin must be known before the site exists. Pulumi would autoname the bucket (a random
suffix), so the orchestrator names it instead: from the account, region, pipeline and
step, hence the same on every run and unique across accounts (bucket names are global).
A site deployed before keeps the bucket its run recorded.
"""

from __future__ import annotations

import hashlib
import re

from ..partitions import dns_suffix

# Regions whose website endpoint is `s3-website-<region>` (a dash); every other region's is
# `s3-website.<region>` (a dot). Source: the "Amazon S3 website endpoints" table,
# https://docs.aws.amazon.com/general/latest/gr/s3.html#s3_website_region_endpoints
DASH_REGIONS = frozenset(
    {
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "eu-west-1",
        "sa-east-1",
        "us-gov-west-1",
    }
)
MAX_BUCKET = 63  # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
DIGEST_CHARS = 12
RESERVED_PREFIXES = ("sthree-", "amzn-s3-demo-")  # S3 refuses names that start so ("xn--" cannot: "-" runs become one)


def website_host(bucket: str, region: str) -> str:
    joint = "-" if region in DASH_REGIONS else "."
    return f"{bucket}.s3-website{joint}{region}.{dns_suffix(region)}"


def website_origin(bucket: str, region: str) -> str:
    """What a browser sends as Origin for a page of the site: website endpoints serve HTTP only."""
    return f"http://{website_host(bucket, region)}"


def site_bucket(account: str, region: str, pipeline: str, step: str) -> str:
    """`<pipeline>-<step>-<digest>`: readable, within S3's rules, and the account's own."""
    readable = re.sub(r"[^a-z0-9]+", "-", f"{pipeline}-{step}".lower()).strip("-") or "site"
    if readable.startswith(RESERVED_PREFIXES):
        readable = "site-" + readable
    digest = hashlib.sha256(f"{account}/{region}/{pipeline}/{step}".encode()).hexdigest()[:DIGEST_CHARS]
    return readable[: MAX_BUCKET - DIGEST_CHARS - 1].rstrip("-") + "-" + digest
