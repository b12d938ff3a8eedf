"""What the aws target needs from a spec before it can run it: the account-side settings.

One list of problems with one wording each. `validate` and `plan` show them located
(`settings_diagnostics`, whenever the target in use is aws, whether the spec says
`target: aws` or the command says `--target aws`); `run`'s preflight reports them all
at once, and a SageMaker step that runs without them fails with the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ...diagnostics import Diagnostic
from ...spec.loader import Document
from ...spec.models import AwsSettings, Pipeline
from ..base import StepFailed
from .partitions import partition

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+")
REQUIRED = (
    ("role_arn", "arn:aws:iam::123456789012:role/SageMakerExecution"),
    ("bucket", "my-ml-artifacts"),
)


@dataclass(frozen=True)
class SettingProblem:
    at: tuple[str, ...]  # where in the spec: ("aws",) for a missing setting, ("aws", name) for a wrong one
    message: str
    hint: str


def settings_problems(aws: AwsSettings, region: str) -> list[SettingProblem]:
    """Each setting the target needs that is missing or malformed (an unresolved ${env:...} is not judged)."""
    problems = [
        SettingProblem(
            ("aws",), f"target aws needs aws.{field}", f"e.g. aws: {{{field}: {example}}} or {field}: ${{env:...}}"
        )
        for field, example in REQUIRED
        if not getattr(aws, field)
    ]
    if aws.role_arn and "${" not in aws.role_arn and not ROLE_ARN.match(aws.role_arn):
        problems.append(
            SettingProblem(
                ("aws", "role_arn"), f"'{aws.role_arn}' is not an IAM role ARN", "arn:aws:iam::ACCOUNT:role/NAME"
            )
        )
    elif aws.role_arn and "${" not in aws.role_arn and aws.role_arn.split(":")[1] != partition(region):
        problems.append(
            SettingProblem(
                ("aws", "role_arn"),
                f"'{aws.role_arn}' is a role of partition {aws.role_arn.split(':')[1]}; {region} is in {partition(region)}",
                f"arn:{partition(region)}:iam::ACCOUNT:role/NAME",
            )
        )
    return problems


def settings_diagnostics(p: Pipeline, doc: Document) -> Iterator[Diagnostic]:
    for problem in settings_problems(p.aws, p.region):
        at = ("target",) if problem.at == ("aws",) and "aws" not in doc.data else problem.at
        yield doc.diagnostic(at, problem.message, problem.hint)


def require_settings(pipeline: Pipeline) -> None:
    """For a step about to call SageMaker: fail clearly, before any call, when a setting is missing."""
    problems = settings_problems(pipeline.aws, pipeline.region)
    if problems:
        raise StepFailed(problems[0].message, hint=problems[0].hint)
