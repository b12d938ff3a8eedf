"""The one small interface every target implements; the executor and planner know nothing else.

A target has one handler per step kind: it turns a step (its `${...}` references
already resolved) into real resources and returns the outputs later steps may
reference, and removes them again. `local` and `aws` are two implementations;
tests add fakes. What a target's world refuses, `check` says before anything runs.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import StepFailed, TargetError
from ..spec.kinds import KINDS
from ..spec.models import Pipeline

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic
    from ..spec.loader import Document

__all__ = [
    "LogFeed",
    "LogRequest",
    "NullReporter",
    "Previous",
    "Reporter",
    "StepContext",
    "StepFailed",
    "StepHandler",
    "StepResult",
    "Target",
    "TargetError",
]


SLICE_S = 0.25


def pause(seconds: float) -> None:
    """Sleep in short slices. A step may run in a worker thread (steps run at once), where Ctrl-C
    arrives as KeyboardInterrupt at its next Python instruction, not inside a long C-level sleep."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, SLICE_S))


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


@dataclass(frozen=True)
class StepContext:
    pipeline: Pipeline
    step: str  # the step's name in the spec
    kind: str  # a key of spec.kinds.KINDS
    run_id: int
    fingerprint: str  # hex digest of the step's config, code, data and upstream fingerprints
    project_dir: Path  # folder of the spec file; relative paths in the spec resolve here
    state_dir: Path  # the pipeline's local state folder (.orchestrator/ beside the spec)
    previous: Previous | None
    upstream: Mapping[str, Mapping[str, Any]]  # outputs of the steps that ran (or were kept) before
    reporter: Reporter = field(default_factory=NullReporter)
    forced: bool = False  # run --force STEP: do the work again even where a finished result exists
    # the step's values that came from ${env:...}: used, never written to a file (a local daemon holds them in memory)
    from_env: frozenset[str] = frozenset()

    def path(self, relative: str) -> Path:
        return (self.project_dir / relative).resolve()


@dataclass(frozen=True)
class LogRequest:
    """Which log `logs` reads: one step's, from its recorded outputs ({} when nothing is recorded)."""

    pipeline: Pipeline
    step: str
    outputs: Mapping[str, Any]
    since: float | None = None  # epoch seconds; None: all that is kept
    route: str | None = None  # api steps: only this lambda route's function ("POST /predict")


class LogFeed(Protocol):
    """A step's log events, in time order: each `poll` returns those that came since the last one.

    An event is a dict with `ts` (epoch seconds), `message`, `source` (what wrote it: "training",
    "endpoint", "lambda POST /predict", "access") and, where known, `request_id`; access entries
    also carry `method`, `path`, `status` and `latency_ms`. A feed may set `interval_s`, how
    long `--follow` waits between polls (default one second).
    """

    def poll(self) -> list[dict[str, Any]]: ...


@dataclass
class StepResult:
    outputs: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""  # one sentence for the run's output, e.g. "trained in 12 s, accuracy=0.97"
    details: dict[str, Any] = field(default_factory=dict)  # extra facts worth recording


class StepHandler(ABC):
    """What a target does with the steps of one kind.

    Steps may run at the same time, each in a thread of its own: Ctrl-C reaches a step as
    KeyboardInterrupt at its next Python instruction, so a handler waits in short slices
    (`pause`, timeouts of a second or less) rather than in one long blocking call.
    """

    @abstractmethod
    def apply(self, step: Any, ctx: StepContext) -> StepResult:
        """Make (or update) the step's resources; return its outputs."""

    @abstractmethod
    def destroy(self, ctx: StepContext) -> str:
        """Remove what an earlier run made for this step (from `ctx.previous`); return a sentence."""

    def retire(self, ctx: StepContext) -> str | None:
        """The step's resource now has another name; `ctx.previous` holds the old one's outputs.

        Remove the old one (the new one is already up) and return a sentence; None when the
        target keeps nothing under the old name.
        """
        return None

    def known_outputs(
        self, pipeline: Pipeline, name: str, step: Any, recorded: Mapping[str, Any], settle: bool
    ) -> dict[str, Any]:
        """The outputs of its kind's `known_before` this target can tell before the step runs
        (`recorded`: the outputs its last run recorded, {} if none).

        With `settle` false (plan) only reads, and leaves out what is not decided yet; with it
        true (a run) decides them, e.g. reserves the port a local site will keep, so the step,
        when it runs, makes exactly what was told. Must not import heavy modules.
        """
        return {}

    def check(self, name: str, step: Any, doc: Document) -> Iterable[Diagnostic]:
        """Located problems (severity error) or warnings with one step, as this target sees it.

        Cheap and read-only: `validate` and `plan` call it.
        """
        return ()

    def preflight(self, name: str, step: Any) -> None:
        """Raise TargetError if this step cannot run on the target at all (checked before anything is spent)."""

    def logs(self, step: Any, request: LogRequest) -> LogFeed:
        """The step's log as this target keeps it; read-only. Kinds without one say so."""
        raise TargetError(
            f"step '{request.step}' keeps no log on this target",
            "logs reads training, processing, endpoint and api steps",
        )

    def live(self, outputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """Read-only: what the running resource reports about itself now (e.g. an endpoint's
        workers, requests served and latencies); None when the target cannot tell. `status` shows it."""
        return None

    def probe(self, outputs: Mapping[str, Any]) -> bool | None:
        """Read-only, cheap: does the resource still exist? None when unknown.

        The planner uses it to notice, say, a local endpoint that stopped with the machine.
        Must not import heavy modules (plan starts fast).
        """
        return None


class Target(ABC):
    """Turns steps into resources. Only the executor calls `preflight`, `apply` and `destroy`."""

    name: str = "?"
    costs_money: bool = False  # whether billable kinds (spec.kinds) cost money here

    def __init__(self, pipeline: Pipeline, project_dir: Path, state_dir: Path, reporter: Reporter | None = None):
        self.pipeline = pipeline
        self.project_dir = project_dir
        self.state_dir = state_dir
        self.reporter = reporter or NullReporter()
        self._handlers: Mapping[str, StepHandler] | None = None

    # -- what the target can do, asked before anything runs (cheap, no heavy imports) ------------

    @abstractmethod
    def handlers(self) -> Mapping[str, StepHandler]:
        """One handler per step kind this target runs; built once, on first use."""

    def check(self, doc: Document) -> list[Diagnostic]:
        """Located problems (and warnings) with `self.pipeline`, as written in `doc`, that this
        target's world would refuse or ignore; warnings are not fatal. By default, each step's handler's."""
        return [
            d for name, step in self.pipeline.steps.items() for d in self._handler(step.type).check(name, step, doc)
        ]

    def billed(self, kind: str) -> bool:
        """Does applying a step of this kind start resources someone pays for?"""
        return self.costs_money and KINDS[kind].billable

    def probe(self, kind: str, outputs: Mapping[str, Any]) -> bool | None:
        return self._handler(kind).probe(outputs)

    def live(self, kind: str, outputs: Mapping[str, Any]) -> dict[str, Any] | None:
        return self._handler(kind).live(outputs)

    def logs(self, step: Any, request: LogRequest) -> LogFeed:
        """A feed of the step's log (`logs`, `logs --follow`): read-only, no lock taken."""
        return self._handler(step.type).logs(step, request)

    def known_outputs(
        self, steps: Iterable[str], recorded: Mapping[str, Mapping[str, Any]], settle: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Outputs of these steps known before they run (spec.kinds `known_before`), by step;
        `recorded` holds the outputs of their last runs."""
        known = {}
        for name in steps:
            step = self.pipeline.steps[name]
            try:
                values = self._handler(step.type).known_outputs(
                    self.pipeline, name, step, recorded.get(name, {}), settle
                )
            except StepFailed as exc:
                raise TargetError(
                    f"cannot tell step '{name}'s {', '.join(KINDS[step.type].known_before)} before it runs: {exc}",
                    exc.detail or "another step of the spec names it; check the target's credentials and try again",
                ) from exc
            if values:
                known[name] = {k: v for k, v in values.items() if k in KINDS[step.type].known_before}
        return known

    def data_digests(self, uris: list[str]) -> dict[str, str] | None:
        """Digests of the s3:// inputs' listings, taken when a run starts; None when the target cannot list them."""
        return None

    def plan_notes(self) -> list[str]:
        """Sentences a plan should carry, e.g. what only `run` can check."""
        return []

    # -- changing the world (the executor only) ------------------------------------------------

    def preflight(self, kinds: set[str]) -> None:
        """Check, before anything is spent, that the steps of these kinds can run; raise TargetError."""
        for name, step in self.pipeline.steps.items():
            if step.type in kinds:
                self._handler(step.type).preflight(name, step)

    def apply(self, kind: str, step: Any, ctx: StepContext) -> StepResult:
        return self._handler(kind).apply(step, ctx)

    def destroy(self, kind: str, ctx: StepContext) -> str:
        return self._handler(kind).destroy(ctx)

    def retire(self, kind: str, ctx: StepContext) -> str | None:
        return self._handler(kind).retire(ctx)

    def close(self) -> None:
        """Release clients and connections held during a run."""

    def _handler(self, kind: str) -> StepHandler:
        if self._handlers is None:
            self._handlers = self.handlers()
        try:
            return self._handlers[kind]
        except KeyError:
            raise TargetError(
                f"the {self.name} target cannot run steps of kind '{kind}'",
                "run this pipeline on a target that supports it",
            ) from None
