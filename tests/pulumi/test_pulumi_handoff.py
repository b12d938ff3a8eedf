"""The hand-off to the Pulumi program through the web handlers, against a fake stack (no CLI, no cloud)."""

from __future__ import annotations

import json

import pytest

from orchestrator.spec.models import ApiStep, Pipeline
from orchestrator.targets.aws.web import automation
from orchestrator.targets.aws.web import program as packaged
from orchestrator.targets.base import Previous, StepFailed, TargetError

from .fake_pulumi import FakeCloud
from .handoff_support import (
    API_URL,
    CollectingReporter,
    apply,
    context,
    destroy,
    make_pipeline,
    resolved_api,
    resolved_site,
    web_layer,
)


def test_an_api_step_writes_the_stack_config(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    config = cloud.checkout["demo-prod"]
    project = (tmp_path / "project").resolve()
    assert {key: value for key, value in config.items() if key != "orchestrator:api"} == {
        "aws:region": "eu-west-1",
        "orchestrator:pipeline": "demo",
        "orchestrator:projectDir": str(project),
        "orchestrator:buildDir": str(project / ".orchestrator" / "pulumi-build"),
        "orchestrator:stateDir": str(project / ".orchestrator"),
        # what a lambda bundle never ships: the state folder and the website's source (the shared rule)
        "orchestrator:privateFolders": json.dumps([str(project / ".orchestrator"), str(project / "web")]),
    }
    api = json.loads(config["orchestrator:api"])
    assert api["stage"] == "prod"
    assert api["cors"]["allow_origins"] == ["*"]
    assert api["throttling"] == {"rate_limit": 50.0, "burst_limit": 100}
    assert api["api_key"] is None
    route = api["routes"][0]  # the step itself, in the spec's shape: what the program compiles the document from
    assert (route["endpoint"], route["handler"], route["environment"]) == (
        "demo-deploy",
        "api/handler.py:lambda_handler",
        {},
    )
    assert ApiStep.model_validate(api) == resolved_api(pipeline)
    assert api["routes"][1]["integration"] == "direct"
    assert api["detailed_metrics"] is False


def test_one_stack_per_pipeline_and_stage_on_a_local_file_backend(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    [(name, program, work_dir, env)] = cloud.opened
    assert name == "demo-prod"
    assert program is packaged.main  # run inline, from the installed package
    assert work_dir == tmp_path / "project" / ".orchestrator" / "pulumi-workspace" and work_dir.is_dir()
    backend = (tmp_path / "project" / ".orchestrator" / "pulumi").resolve()
    assert env["PULUMI_BACKEND_URL"] == backend.as_uri()
    assert "PULUMI_PYTHON_CMD" not in env  # no interpreter of its own: the program runs in this process
    assert backend.is_dir()


def test_configured_backend_is_used(tmp_path, cloud):
    pipeline = make_pipeline(backend="s3://team-state/pulumi")
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert cloud.opened[0][3]["PULUMI_BACKEND_URL"] == "s3://team-state/pulumi"


def test_passphrase_defaults_to_empty_but_a_set_one_is_kept(pipeline, tmp_path, cloud, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    assert web_layer(pipeline, tmp_path, cloud).environment()["PULUMI_CONFIG_PASSPHRASE"] == ""
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "s3cret")
    assert "PULUMI_CONFIG_PASSPHRASE" not in web_layer(pipeline, tmp_path, cloud).environment()


def test_an_api_step_returns_the_stack_outputs_and_streams_the_engine(pipeline, tmp_path, cloud):
    reporter = CollectingReporter()
    layer = web_layer(pipeline, tmp_path, cloud)
    result = apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api", reporter))
    assert result.outputs == {
        "url": API_URL,
        "api_id": "fake123",
        "route_urls": {"POST /predict": f"{API_URL}/predict", "POST /invocations": f"{API_URL}/invocations"},
    }
    assert result.details["stack"] == "demo-prod"
    assert result.message == f"API api is live at {API_URL} (2 route(s), Pulumi stack demo-prod)"
    assert reporter.lines == [
        "Updating (demo-prod)",
        " +  aws:apigateway:RestApi created",
        "Resources:",
        "    12 created",
    ]
    assert reporter.statuses == ["pulumi up demo-prod"]


def test_website_joins_the_api_stack_and_keeps_the_api(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    api_config = cloud.checkout["demo-prod"]["orchestrator:api"]
    result = apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    assert result.outputs == {
        "url": "http://fake-site.s3-website.example",
        "bucket": "fake-site-bucket",
        "origin": "http://fake-site-bucket.s3-website-eu-west-1.amazonaws.com",  # from the bucket, as told before
    }
    config = cloud.checkout["demo-prod"]
    assert config["orchestrator:api"] == api_config
    assert json.loads(config["orchestrator:website"]) == {
        "source": "web",
        "index": "index.html",
        "error": "error.html",
        "public": True,
        "config": {"apiUrl": API_URL},
        "config_file": "config.js",
    }
    assert set(cloud.deployed["demo-prod"]["outputs"]) >= {"api_url", "website_url"}


def test_api_reapplied_keeps_the_website(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert "orchestrator:website" in cloud.deployed["demo-prod"]["config"]


def test_fresh_checkout_restores_the_other_part_from_the_last_update(pipeline, tmp_path, cloud):
    """A CI clone has no Pulumi.<stack>.yaml: applying the website must not drop the API."""
    apply(
        web_layer(pipeline, tmp_path, cloud), "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api")
    )
    cloud.fresh_checkout()
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    assert "api_url" in cloud.deployed["demo-prod"]["outputs"]


def test_stack_name_follows_the_api_stage(tmp_path, cloud):
    pipeline = make_pipeline()
    api = resolved_api(pipeline).model_copy(update={"stage": "beta"})
    pipeline.steps["api"] = api
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", api, context(pipeline, tmp_path, "api", "api"))
    apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    assert [name for name, *_ in cloud.opened] == ["demo-beta"]


def test_destroy_website_then_api(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    cloud.operations.clear()

    message = destroy(layer, "website", context(pipeline, tmp_path, "site", "website"))
    assert message == "removed the website from Pulumi stack demo-prod; the rest of the stack stays"
    assert cloud.operations == [("up", "demo-prod")]
    assert "orchestrator:website" not in cloud.deployed["demo-prod"]["config"]
    assert "api_url" in cloud.deployed["demo-prod"]["outputs"]

    message = destroy(layer, "api", context(pipeline, tmp_path, "api", "api"))
    assert message == "destroyed Pulumi stack demo-prod"
    assert cloud.operations[1:] == [("destroy", "demo-prod"), ("remove", "demo-prod")]
    assert "demo-prod" not in cloud.deployed and "demo-prod" not in cloud.checkout


def test_destroy_uses_the_recorded_stack(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    previous = Previous(fingerprint="a", outputs={}, metrics={}, details={"stack": "demo-old"}, run_id=1)
    assert (
        destroy(layer, "api", context(pipeline, tmp_path, "api", "api", previous=previous))
        == "destroyed Pulumi stack demo-old"
    )


def test_engine_failure_is_a_step_failure_with_the_engine_message(pipeline, tmp_path, cloud):
    cloud.fail_next = "error: creating Lambda Function: AccessDeniedException"
    layer = web_layer(pipeline, tmp_path, cloud)
    with pytest.raises(StepFailed) as caught:
        apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert str(caught.value) == "pulumi up failed for stack demo-prod"
    assert caught.value.detail == "error: creating Lambda Function: AccessDeniedException"
    assert caught.value.details == {"stack": "demo-prod"}


def test_missing_output_is_reported(pipeline, tmp_path):
    class NoOutputs(FakeCloud):
        def factory(self, name, program, work_dir, env):
            stack = super().factory(name, program, work_dir, env)
            stack.up = lambda on_output: {}
            return stack

    layer = web_layer(pipeline, tmp_path, NoOutputs())
    with pytest.raises(StepFailed, match="Pulumi stack demo-prod has no output 'api_url'"):
        apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))


def test_cli_vanishing_mid_run_is_the_install_hint(pipeline, tmp_path):
    class CliGone(FakeCloud):
        def factory(self, name, program, work_dir, env):
            stack = super().factory(name, program, work_dir, env)

            def up(on_output):
                raise FileNotFoundError(2, "No such file or directory", "pulumi")

            stack.up = up
            return stack

    layer = web_layer(pipeline, tmp_path, CliGone())
    with pytest.raises(TargetError) as caught:
        apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert str(caught.value) == automation.CLI_MISSING_MESSAGE
    assert caught.value.hint == automation.CLI_MISSING_HINT


def test_backend_label_hides_credentials(tmp_path, cloud):
    layer = web_layer(make_pipeline(backend="https://user:token@pulumi.example/state"), tmp_path, cloud)
    assert layer.backend_label == "https://pulumi.example/state"


# -- route environments are a secret ---------------------------------------------------------


def with_environment(pipeline: Pipeline, environment: dict[str, str]) -> ApiStep:
    api = resolved_api(pipeline).model_dump()
    api["routes"][0]["environment"] = environment
    return ApiStep.model_validate(api)


def test_route_environments_are_written_as_a_secret_key(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    api = with_environment(pipeline, {"OPENAI_API_KEY": "sk-live-123", "LOG_LEVEL": "debug"})
    apply(layer, "api", api, context(pipeline, tmp_path, "api", "api"))
    config = cloud.checkout["demo-prod"]
    assert "sk-live-123" not in config["orchestrator:api"]
    assert json.loads(config["orchestrator:apiEnvironment"]) == {
        "POST /predict": {"OPENAI_API_KEY": "sk-live-123", "LOG_LEVEL": "debug"},
    }
    assert cloud.secret_keys["demo-prod"] == {"orchestrator:apiEnvironment"}


def test_route_environments_removed_from_the_stack_with_the_routes_or_the_api(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", with_environment(pipeline, {"TOKEN": "t"}), context(pipeline, tmp_path, "api", "api"))
    apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert "orchestrator:apiEnvironment" not in cloud.deployed["demo-prod"]["config"]

    apply(layer, "api", with_environment(pipeline, {"TOKEN": "t"}), context(pipeline, tmp_path, "api", "api"))
    destroy(layer, "api", context(pipeline, tmp_path, "api", "api"))
    assert set(cloud.deployed["demo-prod"]["config"]) & {"orchestrator:api", "orchestrator:apiEnvironment"} == set()
    assert "orchestrator:website" in cloud.deployed["demo-prod"]["config"]


def test_references_go_in_the_plain_document_and_only_values_are_secret(tmp_path, cloud):
    """A `{{resolve:...}}` names where the value is; the function reads it at init. Names are not secrets."""
    pipeline = make_pipeline()
    api = resolved_api(pipeline).model_dump()
    api["routes"][0]["environment"] = {
        "OPENAI_API_KEY": "{{resolve:ssm:/demo/openai}}",
        "TOKEN": "value-from-env",
    }
    step = type(resolved_api(pipeline)).model_validate(api)
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", step, context(pipeline, tmp_path, "api", "api"))
    config = cloud.checkout["demo-prod"]
    document = json.loads(config["orchestrator:api"])
    assert document["routes"][0]["environment"] == {"OPENAI_API_KEY": "{{resolve:ssm:/demo/openai}}"}
    assert json.loads(config["orchestrator:apiEnvironment"]) == {"POST /predict": {"TOKEN": "value-from-env"}}
    assert cloud.secret_keys["demo-prod"] == {"orchestrator:apiEnvironment"}
