"""What a run records, and the interface every state backend implements.

Two kinds of facts: *history* (runs and each step's attempts, never rewritten
after they end) and *resources* (what exists now, per step: the last successful
application). The planner reads resources to decide and history to resume.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass
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


@dataclass
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


@dataclass
class Resource:
    """What a step's last successful application left in the world."""

    step: str
    kind: str
    fingerprint: str
    components: dict[str, Any]  # Fingerprint.as_dict(): the parts, so a plan can say what changed
    outputs: dict[str, Any]
    metrics: dict[str, float]
    details: dict[str, Any]
    run_id: int
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
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


class LockHeld(Exception):
    """Another run holds the pipeline's lock; `hint` says how this backend's lock goes away."""

    def __init__(self, holder: dict[str, Any], hint: str = "wait for that run to finish"):
        self.holder = holder
        self.hint = hint
        super().__init__(describe_holder(holder))


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

    def last_run(self) -> RunRecord | None:
        runs = self.runs(limit=1)
        return runs[0] if runs else None

    def close(self) -> None:
        pass
