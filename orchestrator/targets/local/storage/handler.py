"""Website steps: a folder served as an S3 website by the local cloud."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.models import Pipeline, WebsiteStep
from ...base import StepContext, StepFailed, StepResult
from ..daemon.protocol import WebsiteRequest, website_url
from ..handler import warning
from ..services import ServiceHandler
from . import origins

PRIVATE_IGNORED = "public: false has no local effect: the local website is reachable from this machine only"


def website_request(step: WebsiteStep, source: Path) -> WebsiteRequest:
    """What the daemon needs to serve this site from the folder `source`."""
    return WebsiteRequest(
        source=str(source),
        index=step.index,
        error=step.error,
        config_file=step.config_file,
        config=dict(step.config),
    )


class WebsiteHandler(ServiceHandler):
    kind, service, noun, output, verb = "website", "websites", "website", "bucket", "publishing"

    def service_name(self, pipeline: str, step_name: str, step: WebsiteStep) -> str:
        return f"{pipeline}-{step_name}".lower()

    def check(self, name: str, step: WebsiteStep, doc: Document) -> Iterator[Diagnostic]:
        if not step.public:
            yield warning(doc, ("steps", name, "public"), PRIVATE_IGNORED)

    def known_outputs(
        self, pipeline: Pipeline, name: str, step: WebsiteStep, recorded: Mapping[str, Any], settle: bool
    ) -> dict[str, str]:
        """The origin, from the port the site keeps: the daemon's record (which outlives the run's),
        else one reserved now (a run)."""
        bucket = self.service_name(pipeline.name, name, step)
        home = self.client.home
        port = origins.settle_port(home, bucket) if settle else origins.known_port(home, bucket)
        return {"origin": origins.site_origin(port)} if port else {}

    def apply(self, step: WebsiteStep, ctx: StepContext) -> StepResult:
        bucket = self.service_name(ctx.pipeline.name, ctx.step, step)
        source = ctx.path(step.source)
        if not source.is_dir():
            raise StepFailed(f"website source folder not found: {step.source}", f"looked for {source}")
        port = origins.settle_port(self.client.home, bucket)  # the one other steps were told, if any
        answer = self.put(bucket, website_request(step, source), ctx, port)
        url = website_url(answer.port)
        return StepResult(
            outputs={"url": url, "bucket": bucket, "origin": origins.site_origin(answer.port)},
            message=f"website {bucket} at {url}",
            details={"port": answer.port},
        )

    def destroy(self, ctx: StepContext) -> str:
        message = super().destroy(ctx)
        for bucket in {ctx.previous.outputs.get(self.output) if ctx.previous else None, self._derived(ctx)} - {None}:
            origins.release(self.client.home, bucket)
        return message

    def _derived(self, ctx: StepContext) -> str | None:
        step = ctx.pipeline.steps.get(ctx.step)
        return self.service_name(ctx.pipeline.name, ctx.step, step) if step and step.type == self.kind else None
