"""What the hand-off tests share: a pipeline with an api and a site, resolved steps, contexts, the layer."""

from __future__ import annotations

from orchestrator.spec.models import ApiStep, Pipeline, WebsiteStep
from orchestrator.targets.aws.web.handlers import web_handlers
from orchestrator.targets.aws.web.handoff import WebLayer
from orchestrator.targets.base import StepContext, StepResult

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


def web_layer(pipeline, tmp_path, cloud) -> WebLayer:
    project = tmp_path / "project"
    return WebLayer(pipeline, project, project / ".orchestrator", stack_factory=cloud.factory)


def apply(layer: WebLayer, kind: str, step, ctx: StepContext) -> StepResult:
    """What the aws target does with a step of a web kind: its handler applies it through the layer."""
    return web_handlers(layer)[kind].apply(step, ctx)


def destroy(layer: WebLayer, kind: str, ctx: StepContext) -> str:
    return web_handlers(layer)[kind].destroy(ctx)
