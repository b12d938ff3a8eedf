"""Endpoint steps: a model served by the local cloud, at the runtime API's URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ....spec.models import EndpointStep
from ....spec.names import endpoint_name
from ...base import LogRequest, StepContext, StepFailed, StepResult
from ..daemon.client import DaemonError
from ..daemon.protocol import EndpointRequest, ScalingRequest, invocations_url, local_url, read_stats
from ..handler import refuse_custom_image
from ..logbook import LocalFeed
from ..logs import endpoint_feed
from ..services import ServiceHandler, probe_url
from ..storage.layout import S3Layout, split_s3_uri


def model_uri(model: str, project_dir: Path, layout: S3Layout) -> str:
    """The model as an s3:// URI of the local S3, or a file:// URI; a relative path is the project's."""
    parsed = urlparse(model)
    if parsed.scheme == "s3":
        bucket, key = split_s3_uri(model)
        if layout.read_meta(bucket, key) is None:
            raise StepFailed(
                f"the model {model} is not in the local S3",
                "train it with the local target first (its model output is there), "
                "or point `model:` at a model.tar.gz beside the spec",
            )
        return model
    if parsed.scheme == "file":
        return model
    if parsed.scheme == "":
        return (project_dir / model).resolve().as_uri()
    raise StepFailed(
        f"the local target cannot read the model {model}",
        "local endpoints load s3:// artifacts of the local S3 or file:// ones; point `model:` at one of those",
    )


class EndpointHandler(ServiceHandler):
    kind, service, noun, output, verb = "endpoint", "endpoints", "endpoint", "endpoint_name", "deploying"

    def service_name(self, pipeline: str, step_name: str, step: EndpointStep) -> str:
        return endpoint_name(pipeline, step_name, step.endpoint_name)

    def live(self, outputs: Any) -> dict[str, Any] | None:
        """Workers, requests served, errors and p50/p99 latency since deploy, from the daemon (None: not running)."""
        name = outputs.get("endpoint_name")
        try:
            status = self.client.status() if name else None
        except DaemonError:
            return None
        if self.needs_run(name, status):
            return super().live(outputs)
        entry = ((status or {}).get("services", {}).get("endpoints") or {}).get(name) or {}
        stats = read_stats(entry.get("stats"))
        return stats.to_json() if stats else None

    def logs(self, step: EndpointStep, request: LogRequest) -> LocalFeed:
        """The container's output (its prints, the model server's errors), as CloudWatch keeps an endpoint's."""
        return endpoint_feed(self.client.home.root, self.recorded_name(step, request), request)

    def preflight(self, name: str, step: EndpointStep) -> None:
        refuse_custom_image(name, step)

    def apply(self, step: EndpointStep, ctx: StepContext) -> StepResult:
        name = self.service_name(ctx.pipeline.name, ctx.step, step)
        model = model_uri(step.model, ctx.project_dir, S3Layout(self.client.home.s3_dir))
        inference = str(ctx.path(step.inference)) if step.inference else None
        if inference and not Path(inference).is_file():
            raise StepFailed(f"inference module not found: {step.inference}", f"looked for {inference}")
        request = EndpointRequest(
            model,
            inference,
            dict(step.environment),
            framework=step.framework,
            serverless=step.serverless is not None,
            region=ctx.pipeline.region,
            autoscaling=ScalingRequest(**step.autoscaling.model_dump()) if step.autoscaling else None,
        )
        answer = self.put(name, request, ctx)
        return StepResult(
            outputs={"endpoint_name": name, "url": invocations_url(answer.port, name), "model": model},
            message=f"endpoint {name} serving on {local_url(answer.port)}",
            details={"port": answer.port},
        )

    def probe(self, outputs: Any) -> bool | None:
        url = outputs.get("url")
        if not url:
            return None
        parsed = urlparse(url)
        return probe_url(f"{parsed.scheme}://{parsed.netloc}/ping")
