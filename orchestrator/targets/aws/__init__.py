"""The aws target: the same spec on real SageMaker, with the web layer handed to Pulumi.

One handler per step kind: training jobs (`training.py`) and endpoints (`endpoint.py`)
through one counted boto3 wrapper (`client.py`), the api and website as parts of a
Pulumi stack (`web/`). Importing this package is cheap on purpose: boto3 is imported
when the first AWS client is built, `sagemaker.core.image_uris` when an AWS-owned image
is needed, and Pulumi when a stack is opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...spec.models import Pipeline
from ..base import Reporter, StepFailed, StepHandler, Target, TargetError

if TYPE_CHECKING:
    from ...diagnostics import Diagnostic
    from ...spec.loader import Document
    from .client import AwsClient
    from .web.automation import StackFactory


class AwsTarget(Target):
    """SageMaker training jobs and endpoints, and the API and website through Pulumi stacks."""

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
        stack_factory: StackFactory | None = None,
    ):
        super().__init__(pipeline, project_dir, state_dir, reporter)
        self._client = client
        self._stack_factory = stack_factory  # None: the Automation API
        self.listings: dict[str, str] = {}  # s3:// input -> listing digest taken when the run started

    @property
    def client(self) -> AwsClient:
        if self._client is None:
            from .client import AwsClient

            self._client = AwsClient.for_pipeline(self.pipeline)
        return self._client

    def handlers(self) -> Mapping[str, StepHandler]:
        from .endpoint import EndpointHandler
        from .processing import ProcessingHandler
        from .training import TrainingHandler
        from .transform import TransformHandler
        from .tuning import TuningHandler
        from .web.handlers import web_handlers
        from .web.handoff import WebLayer

        web = WebLayer(self.pipeline, self.project_dir, self.state_dir, stack_factory=self._stack_factory)
        return {
            "training": TrainingHandler(self),
            "endpoint": EndpointHandler(self),
            "processing": ProcessingHandler(self),
            "transform": TransformHandler(self),
            "tuning": TuningHandler(self),
            **web_handlers(web, self),
        }

    def check(self, doc: Document) -> list[Diagnostic]:
        from .checks import settings_diagnostics

        return list(settings_diagnostics(self.pipeline, doc))

    def preflight(self, kinds: set[str]) -> None:
        """SageMaker's checks when a SageMaker kind runs (settings, steps, account), Pulumi's when a web kind
        does (program, CLI, the stacks it opens), then each web step's own (what the account allows)."""
        from .preflight import preflight
        from .sagemaker_step import SageMakerHandler
        from .web.handlers import WebHandler

        handlers = {kind: self._handler(kind) for kind in kinds}
        sagemaker = {kind: h for kind, h in handlers.items() if isinstance(h, SageMakerHandler)}
        if sagemaker:
            preflight(self.client, self.pipeline, sagemaker, self.reporter)
        web = {kind: h for kind, h in handlers.items() if isinstance(h, WebHandler)}
        if web:
            steps = {name: step for name, step in self.pipeline.steps.items() if step.type in web}
            stacks = [web[step.type].stack_now(name) for name, step in steps.items()]
            next(iter(web.values())).layer.preflight(stacks)  # the web kinds share one layer
            for name, step in steps.items():
                web[step.type].preflight(name, step)

    def data_digests(self, uris: list[str]) -> dict[str, str]:
        """Listing digests of s3:// inputs, for step fingerprints when `run` starts (reads only).

        Runs before preflight, outside any step, so failures are TargetErrors.
        """
        from .uploads import s3_listing_fingerprint

        try:
            self.listings.update({uri: s3_listing_fingerprint(self.client, uri) for uri in sorted(set(uris))})
        except StepFailed as exc:
            raise TargetError(str(exc), exc.detail or None) from exc
        return {uri: self.listings[uri] for uri in uris}

    def plan_notes(self) -> list[str]:
        """What `plan` should say; also where a lambda bundle Lambda would refuse (over 250 MB unzipped)
        stops `plan`, and `run` before anything is spent: its requirements are resolved here, once per content."""
        from .bundle_sizes import bundle_notes

        s3_inputs = any(
            v.startswith("s3://")
            for s in self.pipeline.steps.values()
            for v in (getattr(s, "inputs", None) or {}).values()
        )
        notes = (
            ["s3:// inputs are compared by their listing when `run` starts; plan shows the last run's"]
            if s3_inputs
            else []
        )
        return notes + bundle_notes(self.pipeline, self.project_dir, self.state_dir)

    def logs(self, step, request):
        """CloudWatch Logs, read through the counted client (logs.py)."""
        from .logs import feed_for

        return feed_for(self.client, step, request)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
