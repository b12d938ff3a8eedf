"""`validate` refuses what SageMaker and Lambda refuse, located in the spec, before anything is planned."""

from __future__ import annotations

import contextlib
import textwrap

import pytest

from orchestrator.errors import DiagnosticError
from orchestrator.validate import validate_file

HEAD = """\
version: 1
name: reviews
steps:
"""


def _problems(tmp_path, steps: str) -> list[str]:
    """What `validate` says of these steps, as the CLI prints it (the spec named relative to its folder)."""
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "train.csv").write_text("1,0.5\n")
    (tmp_path / "api").mkdir(exist_ok=True)
    (tmp_path / "api" / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(HEAD + textwrap.indent(textwrap.dedent(steps), "  "))
    with contextlib.chdir(tmp_path), pytest.raises(DiagnosticError) as raised:
        validate_file(spec.name)
    return [d.render() for d in raised.value.diagnostics]


def test_a_built_in_can_only_record_the_metrics_it_reports(tmp_path):
    problems = _problems(
        tmp_path,
        """\
        train:
          type: training
          algorithm: knn
          inputs: {train: data/train.csv}
          metrics:
            - {name: test:acuracy, regex: 'test accuracy <score>=([0-9.]+)'}
        """,
    )
    assert problems == [
        "pipeline.yaml:9:16: error: steps.train.metrics[0].name: algorithm 'knn' reports no metric 'test:acuracy'"
        "\n  hint: did you mean 'test:accuracy'?"
    ]


def test_a_built_in_metric_far_from_any_name_lists_what_it_reports(tmp_path):
    problems = _problems(
        tmp_path,
        """\
        train:
          type: training
          algorithm: blazingtext
          inputs: {train: data/train.csv}
          metrics: [{name: f1, regex: 'f1=([0-9.]+)'}]
        """,
    )
    assert problems == [
        "pipeline.yaml:8:22: error: steps.train.metrics[0].name: algorithm 'blazingtext' reports no metric 'f1'"
        "\n  hint: it reports validation:accuracy, train:mean_rho"
    ]


def test_serverless_endpoints_take_no_data_capture(tmp_path):
    problems = _problems(
        tmp_path,
        """\
        deploy:
          type: endpoint
          model: s3://bucket/model.tar.gz
          image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1
          serverless: {memory_mb: 2048}
          data_capture: {s3_uri: s3://bucket/capture/}
        """,
    )
    assert problems == [
        "pipeline.yaml:9:19: error: steps.deploy.data_capture: serverless endpoints cannot capture data"
        "\n  hint: use instance: {type: ...} for data capture, or remove data_capture"
    ]


def test_route_variables_must_not_be_lambdas_or_orchestrators_own(tmp_path):
    problems = _problems(
        tmp_path,
        """\
        api:
          type: api
          routes:
            - method: POST
              path: /p
              integration: lambda
              handler: api/handler.py:lambda_handler
              endpoint: reviews-deploy
              environment:
                AWS_REGION: eu-west-1
                AWS_LAMBDA_FUNCTION_NAME: x
                ENDPOINT_NAME: other
                LOG_LEVEL: debug
                OPENAI_API_KEY: "{{resolve:ssm:/reviews/openai}}"
                DB_PASSWORD: "{{resolve:vault:db}}"
        """,
    )
    assert problems == [
        "pipeline.yaml:13:11: error: steps.api.routes[0].environment.AWS_REGION: 'AWS_REGION' is reserved by Lambda"
        "\n  hint: Lambda sets it; choose another name",
        "pipeline.yaml:14:11: error: steps.api.routes[0].environment.AWS_LAMBDA_FUNCTION_NAME: "
        "'AWS_LAMBDA_FUNCTION_NAME' is reserved by Lambda\n  hint: Lambda sets it; choose another name",
        "pipeline.yaml:15:11: error: steps.api.routes[0].environment.ENDPOINT_NAME: "
        "'ENDPOINT_NAME' is set by orchestrator for every lambda route\n  hint: choose another name",
        "pipeline.yaml:18:24: error: steps.api.routes[0].environment.DB_PASSWORD: '{{resolve:vault:db}}' is not a "
        "reference Lambda can resolve\n  hint: {{resolve:ssm:/parameter/name}} or {{resolve:secretsmanager:secret-id}}",
    ]
