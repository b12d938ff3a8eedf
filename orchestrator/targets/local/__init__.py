"""The `local` target: SageMaker, API Gateway and S3 websites emulated on 127.0.0.1.

One handler per step kind, each in the package of its concern. Services run in a
per-pipeline daemon (see daemon/) that outlives the command, as a cloud would.
Importing this module stays light: the daemon imports the servers and the models;
this side speaks to it with the standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...diagnostics import Diagnostic
from ...spec.loader import Document
from ..base import Target
from .daemon.client import DaemonClient
from .gateway.handler import ApiHandler
from .handler import LocalHandler
from .serving.handler import EndpointHandler
from .storage.handler import WebsiteHandler
from .training.handler import TrainingHandler


class LocalTarget(Target):
    name = "local"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.home = self.state_dir / "local"
        self.client = DaemonClient(self.home)

    def handlers(self) -> Mapping[str, LocalHandler]:
        return {
            "training": TrainingHandler(self.home),
            "endpoint": EndpointHandler(self.client),
            "api": ApiHandler(self.client),
            "website": WebsiteHandler(self.client),
        }

    def check(self, doc: Document) -> list[Diagnostic]:
        """Warnings, located in the spec, for what the local target accepts but does not emulate."""
        return [
            diagnostic
            for name, step in self.pipeline.steps.items()
            for diagnostic in self._handler(step.type).warnings(name, step, doc)
        ]

    def preflight(self, kinds: set[str]) -> None:
        for name, step in self.pipeline.steps.items():
            if step.type in kinds:
                self._handler(step.type).preflight(name, step)
