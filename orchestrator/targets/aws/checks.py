"""What the aws target needs from a spec before it can run it: the account-side settings.

Checked by `validate` and `plan` (located, all at once) whenever the target in use is
aws, whether the spec says `target: aws` or the command says `--target aws`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...diagnostics import Diagnostic
from ...spec.loader import Document
from ...spec.models import Pipeline

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+")
REQUIRED = (
    ("role_arn", "arn:aws:iam::123456789012:role/SageMakerExecution"),
    ("bucket", "my-ml-artifacts"),
)


def settings_diagnostics(p: Pipeline, doc: Document) -> Iterator[Diagnostic]:
    for field, example in REQUIRED:
        if not getattr(p.aws, field):
            yield doc.diagnostic(
                ("aws",) if "aws" in doc.data else ("target",),
                f"target aws needs aws.{field}",
                f"e.g. aws: {{{field}: {example}}} or {field}: ${{env:...}}",
            )
    if p.aws.role_arn and "${" not in p.aws.role_arn and not ROLE_ARN.match(p.aws.role_arn):
        yield doc.diagnostic(
            ("aws", "role_arn"), f"'{p.aws.role_arn}' is not an IAM role ARN", "arn:aws:iam::ACCOUNT:role/NAME"
        )
