"""`export`: the API document an api step deploys, printed as JSON, offline and fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from openapi_spec_validator import validate

from orchestrator.cli import main
from tests.functional.cli_support import ROOT
from tests.unit.test_import_boundaries import imported


def export(*argv: str, seed: str = "0") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "export", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
    )


def test_export_prints_the_document_of_the_api_step(capsys):
    assert main(["export", "pipeline.yaml", "--api", "api"]) == 0
    document = json.loads(capsys.readouterr().out)
    validate(document)
    assert set(document["paths"]) == {"/predict", "/invocations"}
    direct = document["paths"]["/invocations"]["post"]["x-amazon-apigateway-integration"]
    assert direct["uri"].endswith(":runtime.sagemaker:path//endpoints/iris-deploy/invocations")  # the derived name
    lambda_uri = document["paths"]["/predict"]["post"]["x-amazon-apigateway-integration"]["uri"]
    assert ":function:iris-api-post-predict/invocations" in lambda_uri


def test_the_only_api_step_is_the_default_and_o_writes_a_file(tmp_path, capsys):
    out = tmp_path / "api.json"
    assert main(["export", "pipeline.yaml", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["export", "pipeline.yaml", "--api", "api", "--target", "aws"]) == 0
    assert out.read_text() == capsys.readouterr().out


def test_output_is_byte_identical_across_processes():
    first = export("examples/churn-xgboost/pipeline.yaml", "--api", "api", seed="1")
    second = export("examples/churn-xgboost/pipeline.yaml", "--api", "api", seed="2")
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.endswith("}\n")


def test_an_unknown_step_is_a_usage_error_with_a_suggestion(capsys):
    assert main(["export", "pipeline.yaml", "--api", "apx"]) == 2
    assert capsys.readouterr().err == (
        "error: --api apx: no step named 'apx' in pipeline.yaml\n  hint: did you mean 'api'?\n"
    )


def test_a_step_of_another_kind_is_a_usage_error_naming_the_api_steps(capsys):
    assert main(["export", "pipeline.yaml", "--api", "deploy"]) == 2
    assert capsys.readouterr().err == (
        "error: --api deploy: step 'deploy' is of type endpoint, not api\n"
        "  hint: api steps: api (e.g. python -m orchestrator export pipeline.yaml --api api)\n"
    )


def test_a_spec_without_api_step_says_so(tmp_path, capsys):
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        "version: 1\nname: demo\nsteps:\n  deploy:\n    type: endpoint\n    model: s3://b/model.tar.gz\n"
        "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1\n    instance: {type: ml.m5.large}\n"
    )
    assert main(["export", str(spec)]) == 2
    assert capsys.readouterr().err == (f"error: {spec} has no api step to export\n  hint: add a step with type: api\n")


def test_export_imports_no_cloud_sdk_or_web_server():
    assert imported("export", "pipeline.yaml", "--api", "api") == (0, "")
    assert imported("export", "pipeline.yaml", "--api", "api", "--target", "aws") == (0, "")
