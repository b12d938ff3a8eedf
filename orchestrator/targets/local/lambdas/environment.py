"""A local Lambda's environment: its route's `environment:` plus Lambda's runtime variables.

Nothing of the daemon's or the shell's environment is passed on (no PATH of a
virtualenv, no real AWS credentials): a function sees what it would see on Lambda,
plus where the local cloud's services are (AWS_ENDPOINT_URL_S3, ..._SAGEMAKER_RUNTIME).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from ..aws_env import local_aws_environment
from ..storage.access import Credentials

# Lambda sets these itself; a function's own environment cannot (docs: "Defined runtime
# environment variables", reserved keys). Locally they are Lambda's too.
RESERVED = (
    "_HANDLER",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
)
RUNTIME_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"


def lambda_environment(
    *,
    function: str,
    handler: str,
    task_root: Path,
    runtime_dir: Path,
    runtime: str,
    memory_mb: int,
    region: str,
    credentials: Credentials,
    s3_url: str,
    own: Mapping[str, str],
) -> dict[str, str]:
    """Everything a worker's process gets; `own` (the route's `environment:`) cannot override Lambda's."""
    env = {k: v for k, v in own.items() if k not in RESERVED}
    env.update(local_aws_environment(s3_url, region, credentials.environment()))
    env.update(
        {
            "_HANDLER": handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
            "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d") + "/[$LATEST]local",
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            # No ~/.aws of this machine: its profiles and settings are not the function's.
            "AWS_CONFIG_FILE": str(task_root / ".aws-none" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(task_root / ".aws-none" / "credentials"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": RUNTIME_PATH,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    return env
