"""The `local` target: SageMaker, API Gateway and S3 websites emulated on 127.0.0.1.

One handler per step kind, each in the package of its concern. Services run in a
per-pipeline daemon (see daemon/) that outlives the command, as a cloud would.
Importing this module stays light: the daemon imports the servers and the models;
this side speaks to it with the standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..base import StepHandler, Target, TargetError
from .daemon.client import DaemonClient
from .gateway.handler import ApiHandler
from .processing.handler import ProcessingHandler
from .serving.handler import EndpointHandler
from .storage.handler import WebsiteHandler
from .training.handler import TrainingHandler
from .transform.handler import TransformHandler
from .tuning.handler import TuningHandler


class LocalTarget(Target):
    name = "local"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.home = self.state_dir / "local"
        self.client = DaemonClient(self.home)

    def handlers(self) -> Mapping[str, StepHandler]:
        return {
            "training": TrainingHandler(self.home),
            "endpoint": EndpointHandler(self.client),
            "api": ApiHandler(self.client),
            "website": WebsiteHandler(self.client),
            "processing": ProcessingHandler(self.home),
            "transform": TransformHandler(self.home),
            "tuning": TuningHandler(self.home),
        }

    def plan_notes(self) -> list[str]:
        """Services a restarted local cloud holds without their ${env:...} values: the run puts them again."""
        from .services import needs_run_notes

        handlers = {step.type: self._handler(step.type) for step in self.pipeline.steps.values()}
        return needs_run_notes(self.client, self.pipeline, handlers)

    def data_digests(self, uris: list[str]) -> dict[str, str]:
        """Digests of the s3:// inputs' listings in the local S3, read from its files (nothing starts)."""
        from .storage.layout import S3Layout

        layout, digests = S3Layout(self.home / "s3"), {}
        for uri in uris:
            digest = layout.listing_digest(uri)
            if digest is None:
                raise TargetError(
                    f"no object in the local S3 at {uri}",
                    "put the data there with boto3 or the AWS CLI against the local cloud's S3, "
                    "or name a file beside the spec",
                )
            digests[uri] = digest
        return digests
