"""validate and plan start fast: they never import boto3, botocore, sagemaker or pulumi,
and a valid spec pays for neither the JSON Schema validator nor the rich console."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "botocore", "sagemaker", "pulumi", "pulumi_aws", "sklearn", "starlette", "uvicorn")
# Imported only when needed: jsonschema explains an invalid spec, rich draws `run`'s progress,
# and `validate` reads no state and makes no plan.
DEFERRED = ("jsonschema", "rich", "orchestrator.plan", "orchestrator.state", "orchestrator.fingerprint")

PROBE = """
import sys
from orchestrator.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY_NAMES))
print('HEAVY=' + ','.join(heavy))
deferred = sorted(m for m in DEFERRED_NAMES if m in sys.modules)
print('DEFERRED=' + ','.join(deferred))
sys.exit(code)
""".replace("HEAVY_NAMES", repr(HEAVY)).replace("DEFERRED_NAMES", repr(DEFERRED))


def probe(*argv: str) -> tuple[int, dict[str, str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True)
    found = dict(ln.split("=", 1) for ln in proc.stdout.splitlines() if ln.startswith(("HEAVY=", "DEFERRED=")))
    return proc.returncode, found


def imported(*argv: str) -> tuple[int, str]:
    code, found = probe(*argv)
    return code, found["HEAVY"]


def test_validate_imports_nothing_heavy():
    assert imported("validate", "pipeline.yaml") == (0, "")


def test_plan_imports_nothing_heavy_for_local_and_aws():
    assert imported("plan", "pipeline.yaml") == (0, "")
    assert imported("plan", "pipeline.yaml", "--target", "aws", "--format", "json") == (0, "")


def test_valid_spec_is_validated_without_the_planner_state_jsonschema_or_rich():
    assert probe("validate", "pipeline.yaml") == (0, {"HEAVY": "", "DEFERRED": ""})


def test_plan_imports_neither_jsonschema_nor_rich():
    code, found = probe("plan", "pipeline.yaml")
    assert code == 0
    assert found["DEFERRED"] == "orchestrator.fingerprint,orchestrator.plan,orchestrator.state"
