"""The aws target: the same spec on real SageMaker, with the web layer handed to Pulumi.

Importing this package is cheap on purpose: boto3 is imported when the first AWS
client is built, `sagemaker.core.image_uris` when an AWS-owned image is needed,
and the Pulumi hand-off when an api or website step runs.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...spec.models import ApiStep, EndpointStep, Pipeline, TrainingStep, WebsiteStep
from ..base import Reporter, StepContext, StepFailed, StepHandler, StepResult, Target, TargetError

if TYPE_CHECKING:
    from .client import AwsClient

WEB_KINDS = {"api", "website"}


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


class AwsTarget(Target):
    """SageMaker training jobs and endpoints through one counted boto3 wrapper."""

    name = "aws"
    costs_money = True
    poll_interval_s = 15.0  # SageMaker status changes take minutes; describe calls are rate-limited

    def __init__(
        self,
        pipeline: Pipeline,
        project_dir: Path,
        state_dir: Path,
        reporter: Reporter | None = None,
        *,
        client: AwsClient | None = None,
    ):
        super().__init__(pipeline, project_dir, state_dir, reporter)
        self._client = client
        self._web: Any = None
        self._listings: dict[str, str] = {}  # s3:// input -> listing digest taken when the run started

    @property
    def client(self) -> AwsClient:
        if self._client is None:
            from .client import AwsClient

            self._client = AwsClient.for_pipeline(self.pipeline)
        return self._client

    @property
    def web(self) -> Any:
        """The Pulumi hand-off for api and website steps, imported only when one runs."""
        if self._web is None:
            try:
                from .web.handoff import WebLayer
            except ImportError as exc:
                raise TargetError(
                    "The aws target's web layer (orchestrator.targets.aws.web.handoff) is not available.",
                    "Install the pulumi extra: pip install 'orchestrator[pulumi]'.",
                ) from exc
            self._web = WebLayer(self.pipeline, self.project_dir, self.state_dir, self.reporter)
        return self._web

    def check(self, doc):
        from .checks import settings_diagnostics

        return list(settings_diagnostics(self.pipeline, doc))

    def preflight(self, kinds: set[str]) -> None:
        from .preflight import preflight

        preflight(self.client, self.pipeline, kinds, self.reporter)
        if kinds & WEB_KINDS:
            self.web.preflight()

    def train(self, step: TrainingStep, ctx: StepContext) -> StepResult:
        from . import training

        self._require_settings(ctx.step)
        return self._counted(partial(training.train, known=self._listings), step, ctx)

    def deploy(self, step: EndpointStep, ctx: StepContext) -> StepResult:
        from . import endpoint

        self._require_settings(ctx.step)
        return self._counted(endpoint.deploy, step, ctx)

    def provision_api(self, step: ApiStep, ctx: StepContext) -> StepResult:
        return self.web.apply_api(ctx.step, step, ctx)

    def publish_website(self, step: WebsiteStep, ctx: StepContext) -> StepResult:
        return self.web.apply_website(ctx.step, step, ctx)

    def handlers(self):
        methods = {
            "training": self.train,
            "endpoint": self.deploy,
            "api": self.provision_api,
            "website": self.publish_website,
        }
        return {kind: _KindHandler(self, kind, apply) for kind, apply in methods.items()}

    def destroy_step(self, kind: str, ctx: StepContext) -> str:
        if kind in WEB_KINDS:
            return self.web.destroy(kind, ctx)
        step = self.pipeline.steps.get(ctx.step)
        if kind == "endpoint":
            from . import endpoint

            if not isinstance(step, EndpointStep):  # the step left the spec; destroy what was recorded
                step = EndpointStep(
                    type="endpoint", model=(ctx.previous.outputs.get("model", "") if ctx.previous else "")
                )
            return endpoint.destroy(self.client, step, ctx)
        if kind == "training":
            return self._stop_training(ctx)
        raise StepFailed(f"The aws target cannot destroy steps of kind {kind}.")

    def data_digests(self, uris: list[str]) -> dict[str, str]:
        """Listing digests of s3:// inputs, for step fingerprints when `run` starts (reads only).

        Runs before preflight, outside any step, so failures are TargetErrors.
        """
        from .uploads import s3_listing_fingerprint

        try:
            self._listings.update({uri: s3_listing_fingerprint(self.client, uri) for uri in sorted(set(uris))})
        except StepFailed as exc:
            raise TargetError(str(exc), exc.detail or None) from exc
        return {uri: self._listings[uri] for uri in uris}

    def probe_step(self, kind: str, outputs: dict[str, Any]) -> bool | None:
        """Unknown, always: the planner calls this, and planning must stay free of boto3."""
        return None

    def plan_notes(self) -> list[str]:
        s3_inputs = any(
            v.startswith("s3://")
            for s in self.pipeline.steps.values()
            for v in (getattr(s, "inputs", None) or {}).values()
        )
        return (
            ["s3:// inputs are compared by their listing when `run` starts; plan shows the last run's"]
            if s3_inputs
            else []
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _counted(self, apply: Any, step: Any, ctx: StepContext) -> StepResult:
        """Run a step and record in its details how many AWS calls it made (reads, writes)."""
        before = self.client.counts()
        result = apply(self.client, step, ctx, self.poll_interval_s)
        after = self.client.counts()
        result.details["aws_calls"] = {kind: after[kind] - before[kind] for kind in ("read", "write")}
        return result

    def _require_settings(self, step_name: str) -> None:
        missing = [key for key in ("role_arn", "bucket") if not getattr(self.pipeline.aws, key)]
        if missing:
            raise StepFailed(
                f"Step {step_name} needs aws.{missing[0]} in the spec.",
                "The aws target stores inputs, code and models in aws.bucket and runs SageMaker as aws.role_arn.",
            )

    def _stop_training(self, ctx: StepContext) -> str:
        """Training jobs cannot be deleted; stop one still running, leave history and artifacts."""
        name = ctx.previous.outputs.get("job_name") if ctx.previous else None
        if not name:
            return f"Nothing of step {ctx.step} was recorded, so nothing was removed."
        job = self.client.describe_training_job(name)
        if job is not None and job["TrainingJobStatus"] == "InProgress":
            self.client.stop_training_job(name)
            return f"Stopped training job {name}."
        model = ctx.previous.outputs.get("model") if ctx.previous else None
        kept = f"; its model artifact stays at {model}" if model else ""
        return f"Training job {name} stays in SageMaker's history (jobs cannot be deleted){kept}."
