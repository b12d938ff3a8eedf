"""API steps: one REST API stage in the local cloud, and what of the spec it does not emulate.

Each lambda route's code is packaged here, on the command's side, where installing
its requirements can show progress: the daemon then only runs what it is handed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.models import ApiStep, Cors, Route
from ...base import LogRequest, StepContext, StepFailed, StepResult
from ...lambda_bundle import bundle_files, private_folders
from ..daemon.protocol import ApiRequest, CorsRequest, LambdaCode, RouteRequest, api_url
from ..handler import warning
from ..lambdas.packaging import requirements_env, runtime_layer, stage_bundle
from ..logbook import LocalFeed
from ..logs import api_feed
from ..services import ServiceHandler

API_KEYS_IGNORED = "the local API does not enforce API keys or usage plans; the aws target does"
LOCAL_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def lambda_code(
    route: Route, base_dir: Path, bundles_dir: Path, private: Iterable[Path], show: Callable[[str], None]
) -> LambdaCode:
    """Package a lambda route: its bundle, its requirements' environment, the runtime layer."""
    file, _, function = (route.handler or "").partition(":")
    handler_file = (base_dir / file).resolve()
    bundle = stage_bundle(bundle_files(base_dir, handler_file, private), bundles_dir)
    layers = []
    if route.requirements:
        layers.append(str(requirements_env((base_dir / route.requirements).resolve(), show)))
    layers.append(str(runtime_layer()))
    return LambdaCode(
        bundle=str(bundle),
        handler=f"{handler_file.stem}.{function or 'lambda_handler'}",
        layers=tuple(layers),
        runtime=route.runtime,
        s3_read=tuple(route.s3_read),
    )


def route_request(route: Route, code: LambdaCode | None = None) -> RouteRequest:
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
        code=code,
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


def api_request(
    step: ApiStep,
    base_dir: Path,
    region: str,
    bundles_dir: Path,
    private: Iterable[Path] = (),
    show: Callable[[str], None] = lambda line: None,
) -> ApiRequest:
    """What the daemon needs to serve this API, its lambda routes packaged (handler files
    resolve against `base_dir`; `private` folders are never bundled)."""
    private = list(private)
    routes = tuple(
        route_request(
            route, lambda_code(route, base_dir, bundles_dir, private, show) if route.integration == "lambda" else None
        )
        for route in step.routes
    )
    return ApiRequest(
        stage=step.stage,
        routes=routes,
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
            if "runtime" in route.model_fields_set and route.runtime != LOCAL_RUNTIME:
                yield warning(
                    doc,
                    ("steps", name, "routes", index, "runtime"),
                    f"runtime {route.runtime}: the local Lambda runs this machine's Python "
                    f"({LOCAL_RUNTIME}), with its standard library and compiled wheels",
                    f"run the orchestrator with {route.runtime.replace('python', 'Python ')} to match, "
                    f"or set runtime: {LOCAL_RUNTIME}",
                )
        if step.api_key is not None:
            yield warning(doc, ("steps", name, "api_key"), API_KEYS_IGNORED)

    def logs(self, step: ApiStep, request: LogRequest) -> LocalFeed:
        """The stage's access log and its lambda routes' function logs (one route's with `request.route`)."""
        routes = [(route.method, route.path, route.integration) for route in step.routes]
        return api_feed(self.client.home.root, self.recorded_name(step, request), routes, request)

    def apply(self, step: ApiStep, ctx: StepContext) -> StepResult:
        api_id = self.service_name(ctx.pipeline.name, ctx.step, step)
        for route in step.routes:
            if route.integration == "lambda":
                file = (route.handler or "").partition(":")[0]
                if not file or not ctx.path(file).is_file():
                    raise StepFailed(
                        f"lambda handler file not found for {route.method} {route.path}: {file or '(none)'}"
                    )
                if route.requirements and not ctx.path(route.requirements).is_file():
                    raise StepFailed(
                        f"requirements file not found for {route.method} {route.path}: {route.requirements}"
                    )
        private = private_folders(ctx.pipeline, ctx.project_dir, ctx.state_dir, ctx.step)
        request = api_request(
            step, ctx.project_dir, ctx.pipeline.region, self.client.home.bundles_dir, private, ctx.reporter.log
        )
        answer = self.put(api_id, request, ctx)
        url = api_url(answer.port, step.stage)
        return StepResult(
            outputs={"url": url, "api_id": api_id}, message=f"API {api_id} at {url}", details={"port": answer.port}
        )
