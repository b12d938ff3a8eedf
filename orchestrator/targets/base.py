"""The one small interface every target implements; the executor knows nothing else.

A target turns one step (its `${...}` references already resolved) into real
resources and returns the outputs later steps may reference. `local` and `aws`
are two implementations of it; tests add fakes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..spec.models import ApiStep, EndpointStep, Pipeline, TrainingStep, WebsiteStep


class Reporter(Protocol):
    """Where a target shows progress; the CLI renders it with rich, tests collect it."""

    def log(self, line: str) -> None:
        """One line of a step's own output (e.g. the training script's log)."""

    def status(self, text: str) -> None:
        """The step's current state in a few words (e.g. 'InProgress / Training')."""

    def info(self, text: str) -> None:
        """A sentence worth keeping in the run's output."""

    def warn(self, text: str) -> None:
        """Something the user should know but that does not fail the step."""


class NullReporter:
    def log(self, line: str) -> None: ...
    def status(self, text: str) -> None: ...
    def info(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...


@dataclass(frozen=True)
class Previous:
    """What an earlier successful run recorded for this step (what is live now)."""

    fingerprint: str
    outputs: dict[str, Any]
    metrics: dict[str, float]
    details: dict[str, Any]
    run_id: int


@dataclass
class StepContext:
    pipeline: Pipeline
    step: str  # the step's name in the spec
    kind: str  # training | endpoint | api | website
    run_id: int
    fingerprint: str  # hex digest of the step's config, code, data and upstream fingerprints
    project_dir: Path  # folder of the spec file; relative paths in the spec resolve here
    state_dir: Path  # the pipeline's local state folder (.orchestrator/ beside the spec)
    previous: Previous | None
    upstream: dict[str, dict[str, Any]]  # outputs of the steps that ran (or were kept) before
    reporter: Reporter = field(default_factory=NullReporter)
    forced: bool = False  # run --force STEP: do the work again even where a finished result exists

    def path(self, relative: str) -> Path:
        return (self.project_dir / relative).resolve()


@dataclass
class StepResult:
    outputs: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""  # one sentence for the run's output, e.g. "trained in 12 s, accuracy=0.97"
    details: dict[str, Any] = field(default_factory=dict)  # extra facts worth recording


class StepFailed(Exception):
    """A step failed for a reason the user can act on; `detail` is shown below the message."""

    def __init__(self, message: str, detail: str = "", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.detail = detail
        self.details = details or {}


class TargetError(Exception):
    """The target cannot work at all (no credentials, missing tool); found in preflight."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class Target(ABC):
    """Turns steps into resources. Only the executor calls these methods."""

    name: str = "?"

    def __init__(self, pipeline: Pipeline, project_dir: Path, state_dir: Path, reporter: Reporter | None = None):
        self.pipeline = pipeline
        self.project_dir = project_dir
        self.state_dir = state_dir
        self.reporter = reporter or NullReporter()

    def preflight(self, kinds: set[str]) -> None:
        """Check, before anything is spent, that the steps of these kinds can run; raise TargetError."""

    @abstractmethod
    def train(self, step: TrainingStep, ctx: StepContext) -> StepResult: ...

    @abstractmethod
    def deploy(self, step: EndpointStep, ctx: StepContext) -> StepResult: ...

    @abstractmethod
    def provision_api(self, step: ApiStep, ctx: StepContext) -> StepResult: ...

    @abstractmethod
    def publish_website(self, step: WebsiteStep, ctx: StepContext) -> StepResult: ...

    @abstractmethod
    def destroy(self, kind: str, ctx: StepContext) -> str:
        """Remove what an earlier run made for this step (from `ctx.previous`); return a sentence."""

    def probe(self, kind: str, outputs: dict[str, Any]) -> bool | None:
        """Read-only, cheap: does the resource still exist? None when unknown.

        The planner uses it to notice, say, a local endpoint that stopped with the machine.
        Must not import heavy modules (plan starts fast).
        """
        return None

    def data_digests(self, uris: list[str]) -> dict[str, str] | None:
        """Digests of the s3:// inputs' listings, taken when a run starts; None when the target cannot list them."""
        return None

    def plan_notes(self) -> list[str]:
        """Sentences a plan should carry, e.g. what only `run` can check."""
        return []

    def close(self) -> None:
        """Release clients and connections held during a run."""

    def apply(self, kind: str, step: Any, ctx: StepContext) -> StepResult:
        """Dispatch a step to the method for its kind."""
        method = {
            "training": self.train,
            "endpoint": self.deploy,
            "api": self.provision_api,
            "website": self.publish_website,
        }[kind]
        return method(step, ctx)
