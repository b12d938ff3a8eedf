"""Lambda routes without an endpoint and with API Gateway's custom integration, through validate and plan."""

from __future__ import annotations

import textwrap

import pytest

from orchestrator.errors import DiagnosticError
from orchestrator.plan import make_plan
from orchestrator.validate import validate_file

HEALTH_AND_PREDICT = """\
version: 1
name: demo
steps:
  train:
    type: training
    framework: sklearn
    entry_point: train.py
    inputs: {train: data.csv}
  deploy:
    type: endpoint
    model: ${steps.train.outputs.model}
    instance: {type: ml.t2.medium}
  health:
    type: api
    routes:
      - {method: GET, path: /health, integration: lambda, handler: api.py:health}
  predict:
    type: api
    routes:
      - method: POST
        path: /predict
        integration: lambda
        handler: api.py:predict
        endpoint: ${steps.deploy.outputs.endpoint_name}
        proxy: false
        request_template: '{"data": $input.json(''$.rows'')}'
        errors: {'.*not found.*': 404, '.*invalid.*': 400}
"""


@pytest.fixture
def spec_file(project):
    (project / "api.py").write_text("def health(event, context):\n    return {'ok': True}\n")
    path = project / "routes.yaml"
    path.write_text(HEALTH_AND_PREDICT)
    return path


def test_a_lambda_route_needs_no_endpoint_and_keeps_its_defaults(spec_file):
    pipeline = validate_file(spec_file).pipeline
    route = pipeline.steps["health"].routes[0]
    assert route.endpoint is None
    assert route.proxy is True
    assert (route.request_template, route.errors) == (None, None)


def test_an_api_without_endpoints_waits_for_no_endpoint_step(spec_file):
    plan = make_plan(validate_file(spec_file), "local", {})
    assert plan.op("health").action == "run"
    assert "deploy" not in plan.op("health").after
    assert "deploy" in plan.op("predict").after  # the one that names the endpoint does


def test_custom_integration_options_are_read_as_written(spec_file):
    route = validate_file(spec_file).pipeline.steps["predict"].routes[0]
    assert route.proxy is False
    assert route.request_template == "{\"data\": $input.json('$.rows')}"
    assert route.errors == {".*not found.*": 404, ".*invalid.*": 400}


def test_a_direct_route_still_needs_its_endpoint(project):
    path = project / "direct.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            name: demo
            steps:
              api:
                type: api
                routes: [{method: POST, path: /invocations, integration: direct}]
            """
        )
    )
    with pytest.raises(DiagnosticError) as caught:
        validate_file(path)
    [problem] = caught.value.diagnostics
    assert problem.message == "a direct route needs 'endpoint': API Gateway calls that endpoint itself"
    assert problem.path == ("steps", "api", "routes", 0)


@pytest.mark.parametrize("path, refused", [("/~user", True), ("/items/a,b:c", False), ("/items/{id}", False)])
def test_route_path_segments_follow_api_gateways_rule(project, path, refused):
    """Letters, digits, `_-.,:` and braces (API Gateway known issues): `~` is refused by its import."""
    spec = project / "paths.yaml"
    route = f"{{method: POST, path: '{path}', integration: direct, endpoint: ep}}"
    spec.write_text(f"version: 1\nname: demo\nsteps:\n  api:\n    type: api\n    routes: [{route}]\n")
    if not refused:
        validate_file(spec)
        return
    with pytest.raises(DiagnosticError) as caught:
        validate_file(spec)
    [problem] = caught.value.diagnostics
    assert problem.message == f"invalid route path '{path}'"
