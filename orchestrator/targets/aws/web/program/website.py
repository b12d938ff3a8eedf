"""The S3 website: a bucket serving the site folder plus the generated config file.

Public read is off unless the spec asks for it; when on, the only grant is
`s3:GetObject` on this bucket's objects, and the bucket's public access block
is relaxed just enough for that bucket policy.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import pulumi
import pulumi_aws as aws

from ....website_config import render_config  # the page's config file, exactly as the local website renders it
from . import naming
from .naming import logical_name
from .settings import Settings, WebsiteSettings
from .site_files import site_files

EXTRA_TYPES = {
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".ico": "image/x-icon",
    ".md": "text/markdown",
}


def content_type(path: Path) -> str:
    guessed = EXTRA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return guessed or "application/octet-stream"


def public_read_policy(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicReadOfSiteObjects",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket_arn}/*",
                }
            ],
        }
    )


def build_website(settings: Settings, site: WebsiteSettings) -> dict[str, pulumi.Input]:
    """Create the bucket, its website configuration, objects and (if public) its policy."""
    name = logical_name(settings.pipeline, "site", limit=naming.BUCKET)
    bucket = aws.s3.Bucket(name, bucket=site.bucket, force_destroy=True, tags=settings.tags)
    website = aws.s3.BucketWebsiteConfiguration(
        name,
        bucket=bucket.id,
        index_document={"suffix": site.index},
        error_document={"key": site.error},
    )
    access_block = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        ignore_public_acls=True,
        block_public_policy=not site.public,
        restrict_public_buckets=not site.public,
    )
    private_dirs = [settings.state_dir or settings.project_dir / ".orchestrator", settings.build_dir]
    for key, path in site_files(settings.path(site.source), private_dirs):
        if key == site.config_file:
            continue  # the generated file replaces a placeholder of the same name
        aws.s3.BucketObjectv2(
            f"{name}-file-{key}",  # keys are unique; slugs might not be
            bucket=bucket.id,
            key=key,
            source=pulumi.FileAsset(str(path)),
            content_type=content_type(path),
        )
    body, config_type = render_config(site.config, site.config_file)
    aws.s3.BucketObjectv2(
        logical_name(name, "config"),
        bucket=bucket.id,
        key=site.config_file,
        content=body.decode("utf-8"),
        content_type=config_type,
        cache_control="no-cache",  # the API URL may change with the next run
    )
    if site.public:
        aws.s3.BucketPolicy(
            name,
            bucket=bucket.id,
            policy=bucket.arn.apply(public_read_policy),
            opts=pulumi.ResourceOptions(depends_on=[access_block]),
        )
    return {
        "website_url": pulumi.Output.concat("http://", website.website_endpoint),
        "website_bucket": bucket.bucket,
    }
