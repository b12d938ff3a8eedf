"""validate and plan start fast: they never import boto3, botocore, sagemaker or pulumi."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "botocore", "sagemaker", "pulumi", "pulumi_aws", "sklearn", "starlette", "uvicorn")

PROBE = """
import sys
from orchestrator.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY_NAMES))
print('HEAVY=' + ','.join(heavy))
sys.exit(code)
""".replace("HEAVY_NAMES", repr(HEAVY))


def imported(*argv: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("HEAVY=")][-1]
    return proc.returncode, line.removeprefix("HEAVY=")


def test_validate_imports_nothing_heavy():
    assert imported("validate", "pipeline.yaml") == (0, "")


def test_plan_imports_nothing_heavy_for_local_and_aws():
    assert imported("plan", "pipeline.yaml") == (0, "")
    assert imported("plan", "pipeline.yaml", "--target", "aws", "--format", "json") == (0, "")
