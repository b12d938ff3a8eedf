"""Website steps: a folder served as an S3 website by the local cloud."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.models import WebsiteStep
from ...base import StepContext, StepFailed, StepResult
from ..daemon.protocol import WebsiteRequest, website_url
from ..handler import warning
from ..services import ServiceHandler

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

    def apply(self, step: WebsiteStep, ctx: StepContext) -> StepResult:
        bucket = self.service_name(ctx.pipeline.name, ctx.step, step)
        source = ctx.path(step.source)
        if not source.is_dir():
            raise StepFailed(f"website source folder not found: {step.source}", f"looked for {source}")
        answer = self.put(bucket, website_request(step, source), ctx)
        url = website_url(answer.port)
        return StepResult(
            outputs={"url": url, "bucket": bucket}, message=f"website {bucket} at {url}", details={"port": answer.port}
        )
