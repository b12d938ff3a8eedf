"""`validate` and `plan` of an aws spec must not pay for boto3 or the SageMaker SDK."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_aws_target_loads_no_aws_library():
    code = (
        "import sys, json\n"
        "import orchestrator.targets.aws\n"
        "from orchestrator.targets import load_target\n"
        "load_target('aws')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'sagemaker', 'pulumi'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
