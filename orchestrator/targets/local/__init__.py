"""The `local` target: SageMaker, API Gateway and S3 websites emulated on 127.0.0.1.

Services run in a per-pipeline daemon (see daemon/) that outlives the command, as a
cloud would. Importing this module stays light: the daemon imports the servers and
the models; this side speaks to it with the standard library only.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ...spec.models import ApiStep, EndpointStep, TrainingStep, WebsiteStep
from ...spec.names import endpoint_name
from ..base import StepContext, StepFailed, StepHandler, StepResult, Target, TargetError
from .daemon.client import DaemonClient, DaemonError, Removal

PROBE_TIMEOUT_S = 1.0


def _probe_url(url: str) -> bool | None:
    """Any HTTP answer means the service is up; a refused connection means it is gone.

    A slow answer (a busy machine) means neither: unknown, so a plan never restarts
    a service that is only busy serving.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=PROBE_TIMEOUT_S):
            return True
    except urllib.error.HTTPError:
        return True
    except urllib.error.URLError as exc:
        return None if isinstance(exc.reason, TimeoutError) else False
    except TimeoutError:
        return None
    except (OSError, ValueError):
        return False


def _model_uri(model: str, project_dir: Path) -> str:
    parsed = urlparse(model)
    if parsed.scheme == "file":
        return model
    if parsed.scheme == "":
        return (project_dir / model).resolve().as_uri()
    raise StepFailed(
        f"the local target cannot read the model {model}",
        "local endpoints load file:// artifacts; train with the local target or point `model:` at a local model.tar.gz",
    )


def custom_image_refusal(step_name: str, image: str) -> tuple[str, str]:
    """Why a step with a custom image cannot run locally, and what to do: (message, hint)."""
    message = (
        f"step {step_name!r} uses a custom image ({image}), which needs Docker; "
        "the local target runs scripts without containers"
    )
    return message, "use framework: or algorithm: for local runs, or run this pipeline with target: aws"


class _KindHandler(StepHandler):
    """One kind's share of the target's methods (until each kind has a handler module of its own)."""

    def __init__(self, target, kind: str, apply):
        self.target, self.kind, self._apply = target, kind, apply

    def apply(self, step, ctx: StepContext) -> StepResult:
        return self._apply(step, ctx)

    def destroy(self, ctx: StepContext) -> str:
        return self.target.destroy_step(self.kind, ctx)

    def probe(self, outputs) -> bool | None:
        return self.target.probe_step(self.kind, dict(outputs))


class LocalTarget(Target):
    name = "local"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.home = self.state_dir / "local"
        self.client = DaemonClient(self.home)

    def preflight(self, kinds: set[str]) -> None:
        for step_name, step in self.pipeline.steps.items():
            if step.type in kinds and step.type in ("training", "endpoint") and step.image:
                message, hint = custom_image_refusal(step_name, step.image)
                raise TargetError(message, hint=hint)

    def train(self, step: TrainingStep, ctx: StepContext) -> StepResult:
        from .training.job import (
            run_training,  # the training side loads only when a run trains
        )

        return run_training(step, ctx, self.home)

    def _call(self, what: str, operation, *args) -> Any:
        try:
            return operation(*args)
        except DaemonError as exc:
            raise StepFailed(f"{what} failed on the local target", str(exc)) from exc

    def deploy(self, step: EndpointStep, ctx: StepContext) -> StepResult:
        name = endpoint_name(self.pipeline.name, ctx.step, step.endpoint_name)
        model_uri = _model_uri(step.model, ctx.project_dir)
        inference = str(ctx.path(step.inference)) if step.inference else None
        if inference and not Path(inference).is_file():
            raise StepFailed(f"inference module not found: {step.inference}", f"looked for {inference}")
        answer = self._call(
            f"deploying endpoint {name}", self.client.deploy_endpoint, name, model_uri, inference, step.environment
        )
        url = f"http://127.0.0.1:{answer['port']}/endpoints/{name}/invocations"
        return StepResult(
            outputs={"endpoint_name": name, "url": url, "model": model_uri},
            message=f"endpoint {name} serving on http://127.0.0.1:{answer['port']}",
            details={"port": answer["port"]},
        )

    def provision_api(self, step: ApiStep, ctx: StepContext) -> StepResult:
        api_id = f"{self.pipeline.name}-{ctx.step}"
        for route in step.routes:
            if route.integration == "lambda":
                file = (route.handler or "").partition(":")[0]
                if not file or not ctx.path(file).is_file():
                    raise StepFailed(
                        f"lambda handler file not found for {route.method} {route.path}: {file or '(none)'}"
                    )
        if any(route.requirements for route in step.routes):
            ctx.reporter.warn(
                "lambda routes run in this Python environment locally: their requirements files are not installed"
            )
        if step.api_key is not None:
            ctx.reporter.warn("the local API does not enforce API keys or usage plans; the aws target does")
        answer = self._call(
            f"provisioning API {api_id}",
            self.client.put_api,
            api_id,
            step.model_dump(mode="json"),
            str(ctx.project_dir),
            self.pipeline.region,
        )
        url = f"http://127.0.0.1:{answer['port']}/{step.stage}"
        return StepResult(
            outputs={"url": url, "api_id": api_id}, message=f"API {api_id} at {url}", details={"port": answer["port"]}
        )

    def publish_website(self, step: WebsiteStep, ctx: StepContext) -> StepResult:
        bucket = f"{self.pipeline.name}-{ctx.step}".lower()
        source = ctx.path(step.source)
        if not source.is_dir():
            raise StepFailed(f"website source folder not found: {step.source}", f"looked for {source}")
        if not step.public:
            ctx.reporter.warn(
                "public: false has no local effect: the local website is reachable from this machine only"
            )
        spec = {
            "source": str(source),
            "index": step.index,
            "error": step.error,
            "config_file": step.config_file,
            "config": step.config,
        }
        answer = self._call(f"publishing website {bucket}", self.client.put_website, bucket, spec)
        url = f"http://127.0.0.1:{answer['port']}/"
        return StepResult(
            outputs={"url": url, "bucket": bucket},
            message=f"website {bucket} at {url}",
            details={"port": answer["port"]},
        )

    def handlers(self):
        methods = {
            "training": self.train,
            "endpoint": self.deploy,
            "api": self.provision_api,
            "website": self.publish_website,
        }
        return {kind: _KindHandler(self, kind, apply) for kind, apply in methods.items()}

    def destroy_step(self, kind: str, ctx: StepContext) -> str:
        if kind == "training":
            return f"training {ctx.step}: its model artifact stays in the local artifact store"
        key, delete, noun = {
            "endpoint": ("endpoint_name", self.client.delete_endpoint, "endpoint"),
            "api": ("api_id", self.client.delete_api, "API"),
            "website": ("bucket", self.client.delete_website, "website"),
        }[kind]
        # No recorded outputs: the last attempt failed or was interrupted, perhaps after the
        # service came up. Its name follows from the spec, as deploy/provision/publish derive it.
        recorded = ctx.previous.outputs.get(key) if ctx.previous else None
        name = recorded or self._spec_name(kind, ctx)
        if not name:
            return f"{noun} {ctx.step}: nothing recorded to remove"
        removal = self._call(f"removing {noun} {name}", delete, name)
        if removal is Removal.REMOVED:
            return f"{noun} {name} removed"
        if removal is Removal.RECORD_REMOVED:
            return (
                f"{noun} {name} removed (the local cloud was not running; "
                "its record is deleted so it will not come back)"
            )
        return f"{noun} {name} was already gone" if recorded else f"{noun} {name}: nothing was deployed"

    def _spec_name(self, kind: str, ctx: StepContext) -> str | None:
        """The service name deploy/provision/publish give this step, or None if the spec lacks it."""
        step = ctx.pipeline.steps.get(ctx.step)
        if step is None or step.type != kind:
            return None
        if kind == "endpoint":
            return endpoint_name(ctx.pipeline.name, ctx.step, step.endpoint_name)
        if kind == "api":
            return f"{ctx.pipeline.name}-{ctx.step}"
        return f"{ctx.pipeline.name}-{ctx.step}".lower()

    def probe_step(self, kind: str, outputs: dict[str, Any]) -> bool | None:
        if kind == "training":
            model = outputs.get("model", "")
            return Path(urlparse(model).path).is_file() if model.startswith("file://") else None
        url = outputs.get("url")
        if not url:
            return None
        if kind == "endpoint":
            parsed = urlparse(url)
            return _probe_url(f"{parsed.scheme}://{parsed.netloc}/ping")
        return _probe_url(url)
