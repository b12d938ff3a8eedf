"""The stack config of the API tests, as the hand-off writes it, and readers of what the program registered."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from orchestrator.spec.models import ApiStep
from orchestrator.targets.aws.web import stack_config as keys

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/reviews-endpoint"


def api_config(project: Path, api: dict) -> dict[str, str]:
    """Stack config exactly as the hand-off writes it, from a real ApiStep."""
    step = ApiStep.model_validate({"type": "api", **api})
    config = {
        "aws:region": REGION,
        keys.PIPELINE_KEY: "demo",
        keys.PROJECT_DIR_KEY: str(project),
        keys.BUILD_DIR_KEY: str(project / "build"),
        keys.API_KEY: keys.encode(keys.api_document(step)),
    }
    if keys.api_environment(step):  # a secret key (run_program passes it as one)
        config[keys.API_ENVIRONMENT_KEY] = keys.encode(keys.api_environment(step))
    return config


LAMBDA_ROUTE = {
    "method": "POST",
    "path": "/predict",
    "integration": "lambda",
    "handler": "api/handler.py:lambda_handler",
    "endpoint": "Reviews-Endpoint",
    "timeout_s": 10,
    "memory_mb": 512,
    "environment": {"LOG_LEVEL": "debug"},
}
DIRECT_ROUTE = {
    "method": "POST",
    "path": "/invocations",
    "integration": "direct",
    "endpoint": "Reviews-Endpoint",
    "content_type": "text/csv",
    "accept": "text/csv",
}


def policy(inputs: dict) -> dict:
    return json.loads(inputs["policy"])


def all_actions(document: dict) -> list[str]:
    actions = []
    for statement in document["Statement"]:
        value = statement["Action"]
        actions += value if isinstance(value, list) else [value]
    return actions


def zip_names(bundle: Path) -> list[str]:
    """What a lambda route's zip holds."""
    with zipfile.ZipFile(bundle) as archive:
        return sorted(archive.namelist())
