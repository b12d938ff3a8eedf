"""What the training and endpoint handlers share: the run's one AWS client, its settings, its call counts."""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from ..base import StepContext, StepHandler, StepResult
from .checks import require_settings

if TYPE_CHECKING:
    from . import AwsTarget
    from .client import AwsClient
    from .preflight import Problem


class SageMakerHandler(StepHandler):
    """A step kind SageMaker runs. The planner's probe stays unknown (None): plan never calls AWS."""

    def __init__(self, target: AwsTarget):
        self.target = target  # for its one client, poll interval and the s3:// listings of this run

    @property
    def client(self) -> AwsClient:
        return self.target.client

    def apply(self, step: Any, ctx: StepContext) -> StepResult:
        """Run the step and record in its details how many AWS calls it made (reads, writes)."""
        require_settings(ctx.pipeline)
        with self.client.counting() as calls:
            result = self.run(step, ctx)
        result.details["aws_calls"] = {kind: calls[kind] for kind in ("read", "write")}
        return result

    @abstractmethod
    def run(self, step: Any, ctx: StepContext) -> StepResult:
        """Make or find the step's SageMaker resources (settings already checked)."""

    def problems(self, name: str, step: Any) -> list[Problem]:
        """What SageMaker would refuse in this step, found without calling AWS (for preflight)."""
        return []
