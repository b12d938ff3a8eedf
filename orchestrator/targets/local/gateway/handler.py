"""API steps: one REST API stage in the local cloud, and what of the spec it does not emulate.

Each lambda route's code is packaged here, on the command's side, where installing
its requirements can show progress: the daemon then only runs what it is handed.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ....apidoc import ApiDocError, ApiValues, compile_document, route_key
from ....apidoc.values import partition, slug
from ....diagnostics import Diagnostic
from ....spec.loader import Document
from ....spec.models import ApiStep, Cors, Route
from ...base import LogRequest, StepContext, StepFailed, StepResult
from ...lambda_bundle import bundle_files, private_folders
from ...lambda_shim import policy_of
from ..daemon.protocol import ApiKeyRequest, ApiRequest, FunctionRequest, LambdaCode, Throttle, api_url
from ..handler import warning
from ..lambdas.packaging import requirements_env, runtime_layer, stage_bundle
from ..logbook import LocalFeed
from ..logs import api_feed
from ..services import ServiceHandler

LOCAL_ACCOUNT = "123456789012"  # the account the local runtime API names in its answers
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


def function_arn(region: str, route: Route) -> str:
    """The local ARN the document names a lambda route's function by (the account local
    emulators use for the runtime API's answers too)."""
    return f"arn:{partition(region)}:lambda:{region}:{LOCAL_ACCOUNT}:function:{slug(route_key(route))}"


def local_values(step: ApiStep, region: str) -> ApiValues:
    """ARN-shaped local names for what the aws target fills in with deployed resources."""
    lambdas = {route_key(r): function_arn(region, r) for r in step.routes if r.integration == "lambda"}
    direct = any(r.integration == "direct" for r in step.routes)
    role = f"arn:{partition(region)}:iam::{LOCAL_ACCOUNT}:role/local-apigateway-sagemaker" if direct else None
    return ApiValues(title=f"local-{step.stage}", region=region, lambda_arns=lambdas, invoke_role_arn=role)


def function_request(route: Route, region: str, code: LambdaCode, cors: Cors | None = None) -> FunctionRequest:
    return FunctionRequest(
        arn=function_arn(region, route),
        method=route.method,
        path=route.path,
        endpoint=route.endpoint or None,
        memory_mb=route.memory_mb,
        environment=dict(route.environment),
        code=code,
        # the wrapper's CORS is for proxy answers; a custom route's come from its integration responses
        cors=policy_of(cors) if cors is not None and route.proxy else None,
    )


def local_api_key(base_dir: Path, stage: str) -> str:
    """A stable key per project and stage, shaped as API Gateway's (40 characters)."""
    return hashlib.sha256(f"{base_dir}\0{stage}".encode()).hexdigest()[:40]


def api_request(
    step: ApiStep,
    base_dir: Path,
    region: str,
    bundles_dir: Path,
    private: Iterable[Path] = (),
    show: Callable[[str], None] = lambda line: None,
) -> ApiRequest:
    """What the daemon needs to serve this API: the document both targets serve, and each
    lambda route's function packaged (handler files resolve against `base_dir`; `private`
    folders are never bundled). References in the step must be resolved already."""
    private = list(private)
    try:
        document = compile_document(step, local_values(step, region))
    except ApiDocError as exc:
        raise StepFailed(exc.message, hint=exc.hint) from exc
    functions = tuple(
        function_request(route, region, lambda_code(route, base_dir, bundles_dir, private, show), step.cors)
        for route in step.routes
        if route.integration == "lambda"
    )
    throttle = Throttle(step.throttling.rate_limit, step.throttling.burst_limit)
    key = None
    if step.api_key is not None:  # the usage plan has the stage's throttle, as the aws program makes it
        key = ApiKeyRequest(
            local_api_key(base_dir, step.stage), throttle, step.api_key.quota_limit, step.api_key.quota_period
        )
    return ApiRequest(
        stage=step.stage,
        document=document,
        functions=functions,
        throttle=throttle,
        api_key=key,
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
        details: dict = {"port": answer.port}
        if request.api_key is not None:  # callers send it as x-api-key, as on AWS
            details["api_key"] = request.api_key.value
        return StepResult(outputs={"url": url, "api_id": api_id}, message=f"API {api_id} at {url}", details=details)
