"""What every process of the local cloud is told about AWS: where its S3 is, a region, credentials.

Training scripts, inference handlers and Lambdas run boto3 code written for AWS; these
variables point it at the local S3 unchanged (boto3 reads AWS_ENDPOINT_URL_S3). The
shell's own AWS settings (real credentials, profiles, a global endpoint) never reach them.
"""

from __future__ import annotations

from collections.abc import Mapping

# The pipeline's own credentials: any key but a Lambda's may use the whole local S3 (storage/access.py).
PIPELINE_ACCESS_KEY_ID = "local"
PIPELINE_SECRET_ACCESS_KEY = "local"


def without_aws(environment: Mapping[str, str]) -> dict[str, str]:
    """`environment` without AWS_ settings, so nothing of the shell's AWS account leaks in."""
    return {k: v for k, v in environment.items() if not k.startswith("AWS_")}


def local_aws_environment(s3_url: str, region: str, credentials: Mapping[str, str] | None = None) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL_S3": s3_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance metadata here: never wait for it
        **(
            credentials
            or {"AWS_ACCESS_KEY_ID": PIPELINE_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": PIPELINE_SECRET_ACCESS_KEY}
        ),
    }
