"""API steps: one REST API stage in the local cloud, and what of the spec it does not emulate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.models import ApiStep, Cors, Route
from ...base import StepContext, StepFailed, StepResult
from ..daemon.protocol import ApiRequest, CorsRequest, RouteRequest, api_url
from ..handler import warning
from ..services import ServiceHandler

REQUIREMENTS_IGNORED = (
    "lambda routes run in this Python environment locally: their requirements files are not installed"
)
API_KEYS_IGNORED = "the local API does not enforce API keys or usage plans; the aws target does"


def route_request(route: Route) -> RouteRequest:
    return RouteRequest(
        method=route.method,
        path=route.path,
        integration=route.integration,
        endpoint=route.endpoint,
        handler=route.handler,
        memory_mb=route.memory_mb,
        timeout_s=route.timeout_s,
        environment=dict(route.environment),
        content_type=route.content_type,
        accept=route.accept,
    )


def cors_request(cors: Cors | None) -> CorsRequest | None:
    if cors is None:
        return None
    return CorsRequest(
        allow_origins=tuple(cors.allow_origins),
        allow_methods=tuple(cors.allow_methods) if cors.allow_methods is not None else None,
        allow_headers=tuple(cors.allow_headers),
        expose_headers=tuple(cors.expose_headers),
        max_age_s=cors.max_age_s,
        allow_credentials=cors.allow_credentials,
    )


def api_request(step: ApiStep, base_dir: Path, region: str) -> ApiRequest:
    """What the daemon needs to serve this API; lambda handler files resolve against `base_dir`."""
    return ApiRequest(
        stage=step.stage,
        routes=tuple(route_request(route) for route in step.routes),
        cors=cors_request(step.cors),
        base_dir=str(base_dir),
        region=region,
    )


class ApiHandler(ServiceHandler):
    kind, service, noun, output, verb = "api", "apis", "API", "api_id", "provisioning"

    def service_name(self, pipeline: str, step_name: str, step: ApiStep) -> str:
        return f"{pipeline}-{step_name}"

    def check(self, name: str, step: ApiStep, doc: Document) -> Iterator[Diagnostic]:
        for index, route in enumerate(step.routes):
            if route.requirements:
                path = ("steps", name, "routes", index, "requirements")
                yield warning(
                    doc, path, REQUIREMENTS_IGNORED, f"to run it locally: pip install -r {route.requirements}"
                )
        if step.api_key is not None:
            yield warning(doc, ("steps", name, "api_key"), API_KEYS_IGNORED)

    def apply(self, step: ApiStep, ctx: StepContext) -> StepResult:
        api_id = self.service_name(ctx.pipeline.name, ctx.step, step)
        for route in step.routes:
            if route.integration == "lambda":
                file = (route.handler or "").partition(":")[0]
                if not file or not ctx.path(file).is_file():
                    raise StepFailed(
                        f"lambda handler file not found for {route.method} {route.path}: {file or '(none)'}"
                    )
        answer = self.put(api_id, api_request(step, ctx.project_dir, ctx.pipeline.region), ctx)
        url = api_url(answer.port, step.stage)
        return StepResult(
            outputs={"url": url, "api_id": api_id}, message=f"API {api_id} at {url}", details={"port": answer.port}
        )
