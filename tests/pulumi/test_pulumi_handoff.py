"""The hand-off to the Pulumi program, against a fake stack (no CLI, no cloud)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from orchestrator.spec.models import ApiStep, Pipeline, WebsiteStep
from orchestrator.targets.aws.web import automation
from orchestrator.targets.aws.web import program as packaged
from orchestrator.targets.aws.web.handlers import web_handlers
from orchestrator.targets.aws.web.handoff import WebLayer, packaged_program
from orchestrator.targets.base import Previous, StepContext, StepFailed, StepResult, TargetError

from .fake_pulumi import FakeCloud

API_URL = "https://fake123.execute-api.eu-west-1.amazonaws.com/prod"


class CollectingReporter:
    def __init__(self):
        self.lines: list[str] = []
        self.statuses: list[str] = []
        self.infos: list[str] = []

    def log(self, line):
        self.lines.append(line)

    def status(self, text):
        self.statuses.append(text)

    def info(self, text):
        self.infos.append(text)

    def warn(self, text): ...


def make_pipeline(backend: str | None = None, **extra_steps) -> Pipeline:
    steps = {
        "api": {
            "type": "api",
            "stage": "prod",
            "cors": {"allow_origins": ["*"]},
            "routes": [
                {
                    "method": "POST",
                    "path": "/predict",
                    "integration": "lambda",
                    "handler": "api/handler.py:lambda_handler",
                    "endpoint": "${steps.deploy.outputs.endpoint_name}",
                },
                {
                    "method": "POST",
                    "path": "/invocations",
                    "integration": "direct",
                    "endpoint": "${steps.deploy.outputs.endpoint_name}",
                },
            ],
        },
        "site": {"type": "website", "source": "web", "config": {"apiUrl": "${steps.api.outputs.url}"}},
        **extra_steps,
    }
    return Pipeline.model_validate(
        {"name": "demo", "target": "aws", "region": "eu-west-1", "aws": {"pulumi_backend": backend}, "steps": steps}
    )


def resolved_api(pipeline: Pipeline) -> ApiStep:
    """The api step as the executor hands it over: references resolved."""
    data = pipeline.steps["api"].model_dump()
    for route in data["routes"]:
        route["endpoint"] = "demo-deploy"
    return ApiStep.model_validate(data)


def resolved_site(pipeline: Pipeline) -> WebsiteStep:
    data = pipeline.steps["site"].model_dump()
    data["config"] = {"apiUrl": API_URL}
    return WebsiteStep.model_validate(data)


def context(pipeline, tmp_path, step, kind, reporter=None, previous=None) -> StepContext:
    return StepContext(
        pipeline=pipeline,
        step=step,
        kind=kind,
        run_id=1,
        fingerprint="f" * 64,
        project_dir=tmp_path / "project",
        state_dir=tmp_path / "project" / ".orchestrator",
        previous=previous,
        upstream={},
        reporter=reporter or CollectingReporter(),
    )


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def pipeline() -> Pipeline:
    return make_pipeline()


def web_layer(pipeline, tmp_path, cloud) -> WebLayer:
    project = tmp_path / "project"
    return WebLayer(pipeline, project, project / ".orchestrator", CollectingReporter(), stack_factory=cloud.factory)


def apply(layer: WebLayer, kind: str, step, ctx: StepContext) -> StepResult:
    """What the aws target does with a step of a web kind: its handler applies it through the layer."""
    return web_handlers(layer)[kind].apply(step, ctx)


def destroy(layer: WebLayer, kind: str, ctx: StepContext) -> str:
    return web_handlers(layer)[kind].destroy(ctx)


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
    }
    api = json.loads(config["orchestrator:api"])
    assert api["stage"] == "prod"
    assert api["cors"]["allow_origins"] == ["*"]
    assert api["throttling"] == {"rate_limit": 50.0, "burst_limit": 100}
    assert api["api_key"] is None
    assert api["routes"][0] == {
        "method": "POST",
        "path": "/predict",
        "integration": "lambda",
        "endpoint_name": "demo-deploy",
        "handler": "api/handler.py:lambda_handler",
        "runtime": "python3.12",
        "memory_mb": 256,
        "timeout_s": 29.0,
        "requirements": None,
        "s3_read": [],
        "content_type": "application/json",
        "accept": "application/json",
    }
    assert api["routes"][1]["integration"] == "direct"


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
    assert result.outputs == {"url": "http://fake-site.s3-website.example", "bucket": "fake-site-bucket"}
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


def test_preflight_without_the_cli_says_how_to_install_it(pipeline, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    layer = WebLayer(pipeline, tmp_path, tmp_path / "state", CollectingReporter())
    with pytest.raises(TargetError) as caught:
        layer.preflight()
    assert str(caught.value) == (
        "The Pulumi CLI is not installed: target aws needs `pulumi` on PATH to provision the API and website."
    )
    assert caught.value.hint == (
        "Install it with `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi`; "
        "see https://www.pulumi.com/docs/install/), open a new shell so `pulumi version` works, then run again."
    )


def test_real_automation_api_without_the_cli_is_the_same_error(pipeline, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    layer = WebLayer(pipeline, tmp_path, tmp_path / "state", CollectingReporter())
    with pytest.raises(TargetError) as caught:
        apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert str(caught.value) == automation.CLI_MISSING_MESSAGE
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_preflight_with_a_stand_in_stack_needs_no_cli(pipeline, tmp_path, cloud, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    web_layer(pipeline, tmp_path, cloud).preflight()


def test_preflight_rejects_two_apis_on_one_stage(tmp_path, cloud):
    second = {
        "type": "api",
        "stage": "prod",
        "routes": [{"method": "POST", "path": "/x", "integration": "direct", "endpoint": "ep"}],
    }
    layer = web_layer(make_pipeline(admin=second), tmp_path, cloud)
    with pytest.raises(TargetError, match="Several api steps use stage 'prod'"):
        layer.preflight()


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


# -- a part that moves to another stack leaves the old one -------------------------------------


def on_stage(pipeline: Pipeline, stage: str) -> tuple[Pipeline, ApiStep]:
    """The same pipeline with the api step's stage changed (as after editing the spec)."""
    moved = pipeline.model_copy(deep=True)
    moved.steps["api"] = moved.steps["api"].model_copy(update={"stage": stage})
    return moved, resolved_api(pipeline).model_copy(update={"stage": stage})


def recorded(stack: str) -> Previous:
    return Previous(fingerprint="a", outputs={}, metrics={}, details={"stack": stack, "backend": "x"}, run_id=1)


def test_api_and_website_moving_to_a_new_stage_leave_the_old_stack(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    cloud.operations.clear()

    moved, api = on_stage(pipeline, "v2")
    layer = web_layer(moved, tmp_path, cloud)
    reporter = CollectingReporter()
    result = apply(layer, "api", api, context(moved, tmp_path, "api", "api", reporter, previous=recorded("demo-prod")))
    assert result.details["stack"] == "demo-v2"
    assert cloud.operations == [("up", "demo-v2"), ("up", "demo-prod")]
    assert "orchestrator:api" not in cloud.deployed["demo-prod"]["config"]
    assert "orchestrator:website" in cloud.deployed["demo-prod"]["config"]  # the website moves with its own step
    assert reporter.infos == [
        (
            "the api moved from Pulumi stack demo-prod to demo-v2: "
            "removed the api from Pulumi stack demo-prod; the rest of the stack stays"
        )
    ]

    reporter = CollectingReporter()
    result = apply(
        layer,
        "website",
        resolved_site(moved),
        context(moved, tmp_path, "site", "website", reporter, previous=recorded("demo-prod")),
    )
    assert result.details["stack"] == "demo-v2"
    assert cloud.operations[2:] == [("up", "demo-v2"), ("destroy", "demo-prod"), ("remove", "demo-prod")]
    assert set(cloud.deployed) == {"demo-v2"} and "demo-prod" not in cloud.checkout
    assert reporter.infos == [
        "the website moved from Pulumi stack demo-prod to demo-v2: destroyed Pulumi stack demo-prod"
    ]


def test_api_alone_moving_destroys_the_old_stack(pipeline, tmp_path, cloud):
    apply(
        web_layer(pipeline, tmp_path, cloud), "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api")
    )
    moved, api = on_stage(pipeline, "v2")
    cloud.fresh_checkout()  # a CI clone: the old stack's config comes back from its last update
    apply(
        web_layer(moved, tmp_path, cloud),
        "api",
        api,
        context(moved, tmp_path, "api", "api", previous=recorded("demo-prod")),
    )
    assert set(cloud.deployed) == {"demo-v2"}
    assert cloud.operations[-2:] == [("destroy", "demo-prod"), ("remove", "demo-prod")]


def test_same_stack_as_recorded_touches_no_other_stack(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    reporter = CollectingReporter()
    apply(
        layer,
        "api",
        resolved_api(pipeline),
        context(pipeline, tmp_path, "api", "api", reporter, previous=recorded("demo-prod")),
    )
    assert cloud.operations == [("up", "demo-prod")]
    assert reporter.infos == []


def test_failing_to_leave_the_old_stack_fails_the_step_and_says_so(pipeline, tmp_path, cloud):
    apply(
        web_layer(pipeline, tmp_path, cloud), "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api")
    )
    cloud.failing["demo-prod"] = "error: deleting RestApi: AccessDenied"
    moved, api = on_stage(pipeline, "v2")
    with pytest.raises(StepFailed) as caught:
        apply(
            web_layer(moved, tmp_path, cloud),
            "api",
            api,
            context(moved, tmp_path, "api", "api", previous=recorded("demo-prod")),
        )
    assert str(caught.value) == (
        "the api is up in Pulumi stack demo-v2, but removing it from the previous stack demo-prod failed; run again to retry"
    )
    assert caught.value.detail == "error: deleting RestApi: AccessDenied"
    assert caught.value.details == {"stack": "demo-v2", "previous_stack": "demo-prod"}
    assert "api_url" in cloud.deployed["demo-v2"]["outputs"]


# -- finding the program ---------------------------------------------------------------------------


def test_the_program_is_the_one_in_the_installed_package():
    """No folder beside the package is needed: a regular install (site-packages) provisions the API too."""
    program = packaged_program()
    assert program is packaged.main
    package_dir = Path(packaged.__file__).parent
    assert Path(sys.modules[program.__module__].__file__).parent == package_dir
    assert package_dir.parts[-5:] == ("orchestrator", "targets", "aws", "web", "program")


class WithoutPulumiAws:
    """An import system on which pulumi-aws is not installed (what `pip install 'orchestrator[aws]'` gives)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pulumi_aws":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def test_a_missing_pulumi_aws_is_a_clear_preflight_error(pipeline, tmp_path, cloud, monkeypatch):
    for name in [name for name in sys.modules if name.split(".")[0] == "pulumi_aws"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [WithoutPulumiAws(), *sys.meta_path])
    layer = web_layer(pipeline, tmp_path, cloud)
    with pytest.raises(TargetError) as caught:
        layer.preflight()
    assert str(caught.value) == (
        "The pulumi Python packages are not installed: target aws needs them for the API and website."
    )
    assert caught.value.hint == "pip install 'orchestrator[pulumi]'  (pulumi and pulumi-aws v7)"
    with pytest.raises(TargetError):
        apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert cloud.opened == []


def test_an_explicit_program_is_handed_to_the_stacks(pipeline, tmp_path, cloud):
    def program():
        """Another Pulumi program (e.g. a team's own web layer)."""

    project = tmp_path / "project"
    layer = WebLayer(
        pipeline, project, project / ".orchestrator", CollectingReporter(), stack_factory=cloud.factory, program=program
    )
    layer.preflight()
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert cloud.opened[0][1] is program
