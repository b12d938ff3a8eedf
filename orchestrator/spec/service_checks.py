"""Checks of what SageMaker and Lambda refuse, which the schema cannot say; `checks.CHECKS` runs them.

Both targets run the same spec (the local one emulates these services), so a spec
either target would run wrong on AWS is refused here, before anything is planned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..diagnostics import Diagnostic, did_you_mean
from .builtin_metrics import BUILTIN_METRICS
from .loader import Document
from .models import ApiStep, EndpointStep, Pipeline, TrainingStep

# Set by the Lambda runtime; a function's configuration may not set them:
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
LAMBDA_RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
LAMBDA_RESERVED_PREFIX = "AWS_LAMBDA_"
# A variable whose value the function reads at init from Parameter Store or Secrets Manager, so the
# value never sits in its configuration (the aws target's wrapper resolves it: targets/lambda_shim.py).
REFERENCE = re.compile(r"^\{\{resolve:(ssm|secretsmanager):(.+)\}\}$")
REFERENCE_HINT = "{{resolve:ssm:/parameter/name}} or {{resolve:secretsmanager:secret-id}}"
# Set by orchestrator for every lambda route: the endpoint's name and the wrapper's settings.
OWN_VARIABLES = frozenset({"ENDPOINT_NAME"})
OWN_PREFIX = "ORCHESTRATOR_"


def check_builtin_metrics(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """A built-in reports its own metrics; `metrics:` can only pick among them."""
    for name, step in p.steps.items():
        if not isinstance(step, TrainingStep) or step.algorithm not in BUILTIN_METRICS:
            continue
        reported = BUILTIN_METRICS[step.algorithm]
        for i, metric in enumerate(step.metrics):
            if metric.name not in reported:
                yield doc.diagnostic(
                    ("steps", name, "metrics", i, "name"),
                    f"algorithm '{step.algorithm}' reports no metric '{metric.name}'",
                    did_you_mean(metric.name, reported) or "it reports " + ", ".join(reported[:6]),
                )


def check_serverless_features(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """Serverless endpoints do without data capture (SageMaker refuses the config)."""
    for name, step in p.steps.items():
        if isinstance(step, EndpointStep) and step.serverless and step.data_capture:
            yield doc.diagnostic(
                ("steps", name, "data_capture"),
                "serverless endpoints cannot capture data",
                "use instance: {type: ...} for data capture, or remove data_capture",
            )


def check_lambda_environment(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """A lambda route's variables must not be ones Lambda (or orchestrator) sets itself."""
    for name, step in p.steps.items():
        if not isinstance(step, ApiStep):
            continue
        for i, route in enumerate(step.routes):
            for key in route.environment:
                at = ("steps", name, "routes", i, "environment", key)
                if key in LAMBDA_RESERVED or key.startswith(LAMBDA_RESERVED_PREFIX):
                    yield doc.diagnostic(
                        at, f"'{key}' is reserved by Lambda", "Lambda sets it; choose another name", key=True
                    )
                elif key in OWN_VARIABLES or key.startswith(OWN_PREFIX):
                    yield doc.diagnostic(
                        at, f"'{key}' is set by orchestrator for every lambda route", "choose another name", key=True
                    )
                value = route.environment[key]
                if value.startswith("{{resolve:") and not REFERENCE.match(value):
                    yield doc.diagnostic(at, f"'{value}' is not a reference Lambda can resolve", REFERENCE_HINT)


SERVICE_CHECKS = (check_builtin_metrics, check_serverless_features, check_lambda_environment)
