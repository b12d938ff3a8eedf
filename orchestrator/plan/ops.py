"""A plan as frozen data: one op per step, each with the typed causes that decided it.

Logic reads causes, never sentences; sentences are rendered from causes for people
(as Terraform's ActionReason is).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ..fingerprint import Fingerprint

RUN, REPLACE, SKIP, DELETE = "run", "replace", "skip", "delete"
ACTIONS = (RUN, REPLACE, SKIP, DELETE)
SYMBOL = {RUN: "+", REPLACE: "~", SKIP: "=", DELETE: "-"}


class Cause(enum.Enum):
    """Why an op does what it does. The value names it in `plan --json`."""

    NEW = "new"
    FORCED = "forced"
    KIND_CHANGED = "kind_changed"
    CODE_CHANGED = "code_changed"
    DATA_CHANGED = "data_changed"
    CONFIG_CHANGED = "config_changed"
    GATE_CHANGED = "gate_changed"
    GATE_RETRY = "gate_retry"
    ENV_CHANGED = "env_changed"
    FINGERPRINT_CHANGED = "fingerprint_changed"
    UPSTREAM_CHANGED = "upstream_changed"
    UPSTREAM_WILL_RUN = "upstream_will_run"
    GONE = "gone"
    UNCHANGED = "unchanged"
    RESUMES = "resumes"
    REMOVED_FROM_SPEC = "removed_from_spec"
    DESTROY_REQUESTED = "destroy_requested"
    UNFINISHED = "unfinished"
    ROLLBACK = "rollback"
    RECREATED = "recreated"


SENTENCES = {
    Cause.NEW: "new step",
    Cause.FORCED: "forced with --force {0}",
    Cause.KIND_CHANGED: "kind changed from {0} to {1}",
    Cause.CODE_CHANGED: "code changed: {0}",
    Cause.DATA_CHANGED: "data changed: {0}",
    Cause.CONFIG_CHANGED: "config changed: {0}",
    Cause.GATE_CHANGED: "promotion gate changed: {0} (a live model is not deployed again for it)",
    Cause.GATE_RETRY: "promotion gate changed: {0}; it decides again on the model the old gate refused",
    Cause.ENV_CHANGED: "a value from ${{env:...}} changed",
    Cause.FINGERPRINT_CHANGED: "fingerprint changed",
    Cause.UPSTREAM_CHANGED: "upstream changed: {0}",
    Cause.UPSTREAM_WILL_RUN: "upstream will run: {0} (its outputs may change)",
    Cause.GONE: "recorded in run {0} but no longer running ({1}); starting it again",
    Cause.UNCHANGED: "unchanged since run {0}",
    Cause.RESUMES: "resumes: it {0} in run {1}",
    Cause.REMOVED_FROM_SPEC: "removed from the spec",
    Cause.DESTROY_REQUESTED: "destroy requested",
    Cause.UNFINISHED: "its last attempt {0}: removing what it may have made",
    Cause.ROLLBACK: "rollback to run {0}",
    Cause.RECREATED: "SageMaker cannot change {0} in place: on aws it is deleted and created again, serving nothing in between",
}

# Causes that only say an upstream step moved: if what this step takes from it came out
# the same, the executor keeps the step instead of redeploying it.
UPSTREAM_ONLY = frozenset({Cause.UPSTREAM_CHANGED, Cause.UPSTREAM_WILL_RUN})
# Nothing but the promotion gate changed: the model that is live stays deployed as it is.
GATE_ONLY = frozenset({Cause.GATE_CHANGED})


@dataclass(frozen=True)
class Reason:
    cause: Cause
    args: tuple[str, ...] = ()

    def sentence(self) -> str:
        return SENTENCES[self.cause].format(*self.args)


@dataclass(frozen=True)
class Restore:
    """A rollback: deploy the model an earlier run put live, with that run's lineage."""

    run_id: int
    model: str
    metrics: dict[str, float]
    data_fingerprint: str


@dataclass(frozen=True)
class Op:
    step: str
    kind: str
    action: str
    reasons: tuple[Reason, ...]
    fingerprint: Fingerprint | None = None  # None for deletes
    forced: bool = False  # named by --force
    billed: bool = False  # applying it starts resources the target bills for
    restore: Restore | None = None
    after: tuple[str, ...] = ()  # steps whose ops must finish first (steps may run at the same time)

    @property
    def changes(self) -> bool:
        return self.action != SKIP

    @property
    def causes(self) -> frozenset[Cause]:
        return frozenset(r.cause for r in self.reasons)

    @property
    def why(self) -> str:
        return "; ".join(r.sentence() for r in self.reasons)

    @property
    def costs_money(self) -> bool:
        return self.billed and self.action in (RUN, REPLACE) and self.causes != GATE_ONLY


@dataclass(frozen=True)
class Plan:
    pipeline: str
    target: str
    state: str
    ops: tuple[Op, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    # outputs other steps read before their step runs (a site's origin): (step, output, value or None
    # when the run decides it), so a reviewer sees e.g. the origin an API's CORS will allow
    known: tuple[tuple[str, str, str | None], ...] = field(default_factory=tuple)

    def op(self, step: str) -> Op:
        return next(o for o in self.ops if o.step == step)

    @property
    def has_changes(self) -> bool:
        return any(o.changes for o in self.ops)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(ACTIONS, 0)
        for o in self.ops:
            out[o.action] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        if not self.has_changes:
            return "Nothing to do: every step is up to date."
        parts = [f"{c[RUN]} to run", f"{c[REPLACE]} to replace", f"{c[SKIP]} unchanged", f"{c[DELETE]} to delete"]
        return ", ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "target": self.target,
            "state": self.state,
            "changes": self.has_changes,
            "summary": self.summary(),
            "counts": self.counts(),
            "notes": list(self.notes),
            "known_before": [{"step": s, "output": o, "value": v} for s, o, v in self.known],
            "ops": [
                {
                    "step": o.step,
                    "kind": o.kind,
                    "action": o.action,
                    "reason": o.why,
                    "reasons": [r.sentence() for r in o.reasons],
                    "causes": [r.cause.value for r in o.reasons],
                    "costs_money": o.costs_money,
                    "after": list(o.after),
                    "fingerprint": o.fingerprint.digest if o.fingerprint else None,
                }
                for o in self.ops
            ],
        }
