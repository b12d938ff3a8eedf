"""The stack config of the API tests, as the hand-off writes it, and readers of what the program registered."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from orchestrator.apidoc import ApiValues, route_key
from orchestrator.spec.models import ApiStep
from orchestrator.targets.aws.web import stack_config as keys
from orchestrator.targets.aws.web.program import naming

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/reviews-endpoint"


def api_config(project: Path, api: dict | ApiStep) -> dict[str, str]:
    """Stack config exactly as the hand-off writes it, from a real ApiStep."""
    step = api if isinstance(api, ApiStep) else api_step(api)
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

# The steps of the runs conftest.py shares.
LAMBDA_API = {
    "stage": "prod",
    "routes": [LAMBDA_ROUTE],
    "cors": {"allow_origins": ["*"]},
    "api_key": {"quota_limit": 1000, "quota_period": "WEEK"},
    "throttling": {"rate_limit": 20, "burst_limit": 40},
}
DIRECT_API = {"stage": "prod", "routes": [DIRECT_ROUTE]}
PLAIN_LAMBDA_API = {"stage": "prod", "routes": [LAMBDA_ROUTE]}
MIXED_API = {
    "stage": "beta",
    "routes": [
        {**LAMBDA_ROUTE, "method": "GET", "path": "/items/{id}"},
        {**DIRECT_ROUTE, "method": "ANY", "path": "/items/{id}/score"},
    ],
    "cors": {
        "allow_origins": ["https://a.example", "https://b.example"],
        "allow_credentials": True,
        "expose_headers": ["X-Request-Id"],
    },
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


def deployed_document(run) -> str:
    """The body of the run's one REST API: the document API Gateway imports."""
    [rest_api] = run.of_type("RestApi")
    return rest_api["inputs"]["body"]


def deployed_values(run, step: ApiStep, pipeline: str = "demo", region: str = REGION) -> ApiValues:
    """The ARNs the run gave the step's functions and its direct-route role (autonamed), as ApiValues."""
    lambdas = {}
    for route in step.routes:
        if route.integration == "lambda":
            logical = naming.logical_name(pipeline, step.stage, route_key(route), limit=naming.FUNCTION)
            lambdas[route_key(route)] = (
                f"arn:aws:lambda:{region}:{ACCOUNT}:function:{run.named('Function', logical)['name']}"
            )
    roles = [r["inputs"]["name"] for r in run.of_type("Role") if r["name"].endswith("direct-role")]
    return ApiValues(
        title=f"{pipeline}-{step.stage}",
        region=region,
        lambda_arns=lambdas,
        invoke_role_arn=f"arn:aws:iam::{ACCOUNT}:role/{roles[0]}" if roles else None,
    )


def api_step(api: dict) -> ApiStep:
    return ApiStep.model_validate({"type": "api", **api})
