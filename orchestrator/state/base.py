"""What a run records, and the interface every state backend implements.

Two kinds of facts: *history* (runs and each step's attempts, never rewritten
after they end) and *resources* (what exists now, per step: the last successful
application). The planner reads resources to decide and history to resume.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import EXIT_USAGE, OrchestratorError

# 2: resources record the target that made them and the digest of their resolved inputs as fields.
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class RunRecord:
    id: int
    pipeline: str
    target: str
    status: str  # running | succeeded | failed | interrupted
    command: str
    started_at: float
    finished_at: float | None = None
    error: str | None = None
    failed_step: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StepRun:
    """One attempt at one step within a run."""

    run_id: int
    step: str
    kind: str
    action: str  # run | replace | skip | delete | restart
    status: str  # running | succeeded | failed | skipped | interrupted | destroyed | kept
    fingerprint: str
    started_at: float
    finished_at: float | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Resource:
    """What a step's last successful application left in the world."""

    step: str
    kind: str
    fingerprint: str
    components: dict[str, Any]  # Fingerprint.as_dict(): the parts, so a plan can say what changed
    outputs: dict[str, Any]
    metrics: dict[str, float]
    details: dict[str, Any]  # what the target reported (ports, job names, call counts)
    run_id: int
    updated_at: float
    target: str = ""  # the target that made it: one state tracks one world
    resolved: str = ""  # digest of the step's inputs after references were resolved

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Resource:
        """A stored resource; records of schema 1 kept `target` and `resolved` inside `details`."""
        values = dict(record)
        details = dict(values.get("details") or {})
        values.setdefault("target", "")
        values.setdefault("resolved", "")
        values["target"] = values["target"] or details.pop("target", "") or ""
        values["resolved"] = values["resolved"] or details.pop("resolved", "") or ""
        values["details"] = details
        return cls(**values)


@dataclass(frozen=True)
class LiveModel:
    """Lineage: which model served an endpoint step, from which run, since when."""

    step: str
    run_id: int
    model: str
    metrics: dict[str, float]
    data_fingerprint: str
    since: float
    until: float | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LockHeld(OrchestratorError):
    """Another run holds the pipeline's lock; `hint` says how this backend's lock goes away."""

    def __init__(self, holder: dict[str, Any], hint: str = "wait for that run to finish"):
        super().__init__(describe_holder(holder), hint)
        self.holder = holder

    def render(self) -> str:
        return f"error: this pipeline is locked: {self.message}\n  hint: {self.hint}\n"


class StateVersionError(OrchestratorError):
    """Recorded state was written by a newer orchestrator; reading it could lose what it says."""

    exit_code = EXIT_USAGE

    def __init__(self, location: str, version: int):
        super().__init__(
            f"{location} has state schema version {version}, newer than this orchestrator understands "
            f"({SCHEMA_VERSION}); upgrade orchestrator",
            "pip install --upgrade orchestrator, or run the version that wrote this state",
        )


class StateOwnedElsewhere(OrchestratorError):
    """The state folder records another pipeline: two specs would delete each other's resources."""

    exit_code = EXIT_USAGE

    def __init__(self, location: str, owner: str, pipeline: str):
        super().__init__(
            f"{location} holds the state of pipeline '{owner}', not '{pipeline}'",
            f"give pipeline '{pipeline}' a state folder of its own (e.g. state: .orchestrator-{pipeline}), "
            f"or destroy '{owner}' first",
        )


class StateConflict(OrchestratorError):
    """Recorded state changed under a run that held the lock (someone removed it); nothing was overwritten."""

    def __init__(self, message: str):
        super().__init__(message, "find out who else runs this pipeline, then run again: it resumes")


def format_utc(ts: float | None) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "-"


def describe_holder(holder: dict[str, Any]) -> str:
    when = format_utc(holder.get("since"))
    who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
    what = holder.get("command") or "a run"
    return f"{what} ({who}) has held the lock since {when}"


class StateStore(ABC):
    """A pipeline's run state. Every write is atomic; readers never see half a write."""

    location: str

    @abstractmethod
    @contextmanager
    def lock(self, command: str) -> Iterator[None]:
        """Hold the pipeline's lock for one run; raise LockHeld naming the holder."""

    @abstractmethod
    def begin_run(self, pipeline: str, target: str, command: str) -> RunRecord: ...

    @abstractmethod
    def finish_run(
        self, run_id: int, status: str, error: str | None = None, failed_step: str | None = None
    ) -> None: ...

    @abstractmethod
    def step_started(self, attempt: StepRun) -> None: ...

    @abstractmethod
    def step_finished(
        self,
        run_id: int,
        step: str,
        status: str,
        *,
        outputs: dict | None = None,
        metrics: dict | None = None,
        details: dict | None = None,
        message: str = "",
        error: str | None = None,
        resource: Resource | None = None,
        remove_resource: bool = False,
    ) -> None:
        """End an attempt; in the same transaction set (or remove) the step's resource."""

    @abstractmethod
    def resources(self) -> dict[str, Resource]: ...

    @abstractmethod
    def runs(self, limit: int = 20) -> list[RunRecord]:
        """Most recent first."""

    @abstractmethod
    def step_runs(self, run_id: int) -> list[StepRun]: ...

    @abstractmethod
    def mark_interrupted(self) -> list[int]:
        """Runs still 'running' while nobody holds the lock died: mark them interrupted."""

    @abstractmethod
    def set_live(self, live: LiveModel) -> None:
        """Make `live` the endpoint step's live model, closing the previous one."""

    @abstractmethod
    def live_models(self, step: str | None = None) -> list[LiveModel]:
        """Lineage, most recent first."""

    @abstractmethod
    def serial(self) -> int:
        """Grows with every write: what a conditional writer compares."""

    @abstractmethod
    def lock_holder(self) -> dict[str, Any] | None:
        """Who holds the lock (with "alive": True when the backend knows the holder lives), or None."""

    @abstractmethod
    def break_lock(self) -> None:
        """Remove a lock whose holder died (`unlock`)."""

    def never_used(self) -> bool:
        """Nothing was ever recorded here and no run can hold the lock: a reader may stop at once.

        Backends that cannot tell cheaply say False, and the caller takes the lock to find out.
        """
        return False

    def last_run(self) -> RunRecord | None:
        runs = self.runs(limit=1)
        return runs[0] if runs else None

    def history(self, limit: int = 20) -> list[tuple[RunRecord, list[StepRun]]]:
        """Runs, newest first, with their attempts, settled: a run still 'running' while nobody
        holds the lock was killed, and is shown as interrupted (the next run records it so)."""
        runs = self.runs(limit=limit)
        killed = bool(runs) and runs[0].status == "running" and self.lock_holder() is None
        out = []
        for i, run in enumerate(runs):
            attempts = self.step_runs(run.id)
            if killed and i == 0:
                run = replace(run, status="interrupted")
                attempts = [replace(a, status="interrupted") if a.status == "running" else a for a in attempts]
            out.append((run, attempts))
        return out

    def last_attempts(self) -> dict[str, StepRun]:
        """Each step's attempt in the last run, settled as `history` settles them."""
        history = self.history(limit=1)
        return {a.step: a for a in history[0][1]} if history else {}

    def close(self) -> None:
        pass
