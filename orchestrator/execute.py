"""The executor: the only stage that changes the world.

It walks a plan in order, resolves each step's references from the outputs
recorded so far, hands the step to the target and records every start, success
and failure as it happens, so a crash loses nothing and the next run resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .graph import UnresolvedReference, resolve_refs
from .lineage import digest, gate, record_live, reject
from .plan import DELETE, SKIP, Op, Plan
from .spec.models import STEP_KINDS
from .state.base import Resource, RunRecord, StateStore, StepRun
from .targets.base import Previous, Reporter, StepContext, StepFailed, StepResult, Target, TargetError
from .validate import Spec

# Outputs that name a resource in the world: two steps sharing one share the resource.
IDENTITY_OUTPUTS = ("endpoint_name", "api_id", "bucket", "url")


class RunFailed(Exception):
    def __init__(self, run_id: int, step: str, message: str, detail: str = ""):
        super().__init__(message)
        self.run_id = run_id
        self.step = step
        self.detail = detail


@dataclass
class RunOutcome:
    run: RunRecord
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, StepResult] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # endpoint step -> why the new model was not promoted


class StepEvents:
    """What the executor tells the user as steps start and end (the CLI draws it)."""

    def step_started(self, op: Op) -> None: ...
    def step_finished(self, op: Op, status: str, message: str) -> None: ...


def execute(
    spec: Spec,
    plan: Plan,
    target: Target,
    store: StateStore,
    command: str,
    reporter: Reporter,
    events: StepEvents | None = None,
    clock: Callable[[], float] = time.time,
) -> RunOutcome:
    events = events or StepEvents()
    run = store.begin_run(spec.pipeline.name, plan.target, command)
    resources = store.resources()
    outcome = RunOutcome(run=run)
    for op in plan.ops:
        res = resources.get(op.step)
        if op.action == SKIP:
            _record_skip(store, run, op, res, clock)
            outcome.outputs[op.step] = dict(res.outputs) if res else {}
            events.step_finished(op, "skipped", op.reasons[0])
            continue
        ctx = StepContext(
            pipeline=spec.pipeline,
            step=op.step,
            kind=op.kind,
            run_id=run.id,
            fingerprint=op.fingerprint.digest if op.fingerprint else (res.fingerprint if res else ""),
            project_dir=spec.root,
            state_dir=spec.state_dir,
            previous=Previous(res.fingerprint, res.outputs, res.metrics, res.details, res.run_id) if res else None,
            upstream=outcome.outputs,
            reporter=reporter,
            forced=op.forced,
        )
        events.step_started(op)
        store.step_started(StepRun(run.id, op.step, op.kind, op.action, "running", ctx.fingerprint, clock()))
        try:
            if op.action == DELETE:
                kinds = {name: step.type for name, step in spec.pipeline.steps.items()}
                status, message = _delete(target, op, ctx, res, outcome, kinds)
                store.step_finished(run.id, op.step, status, message=message, remove_resource=True)
                events.step_finished(op, status, message)
                continue
            _apply(spec, plan, target, store, run, op, ctx, res, outcome, events, reporter, clock)
        except (StepFailed, TargetError) as exc:
            detail = exc.detail if isinstance(exc, StepFailed) else (f"hint: {exc.hint}" if exc.hint else "")
            _fail(store, run, op, str(exc), detail, getattr(exc, "details", {}))
            events.step_finished(op, "failed", str(exc))
            raise RunFailed(run.id, op.step, str(exc), detail) from exc
        except RunFailed:
            raise
        except KeyboardInterrupt:
            store.step_finished(run.id, op.step, "interrupted", error="interrupted by the user")
            store.finish_run(run.id, "interrupted", "interrupted by the user", op.step)
            raise
        except Exception as exc:
            _fail(store, run, op, f"internal error: {type(exc).__name__}: {exc}", "", {})
            raise
    store.finish_run(run.id, "succeeded")
    outcome.run = store.runs(limit=1)[0]
    return outcome


def _apply(
    spec: Spec,
    plan: Plan,
    target: Target,
    store: StateStore,
    run: RunRecord,
    op: Op,
    ctx: StepContext,
    res: Resource | None,
    outcome: RunOutcome,
    events: StepEvents,
    reporter: Reporter,
    clock,
) -> None:
    """Run or replace one step; record its result (or why it was kept or rejected)."""
    try:
        resolved = resolve_refs(spec.doc.data["steps"][op.step], outcome.outputs)
    except UnresolvedReference as exc:
        raise StepFailed(
            str(exc), "e.g. a training script that wrote nothing to SM_OUTPUT_DATA_DIR has no 'data' output"
        ) from exc
    resolved_digest = digest(resolved)
    if res and res.details.get("resolved") == resolved_digest and all(r.startswith("upstream") for r in op.reasons):
        # Only upstream steps changed, and what this step takes from them came out the same:
        # nothing to redeploy. Its record moves to the new fingerprint, so the next plan is clean.
        message = "its inputs came out unchanged"
        kept = Resource(
            op.step,
            op.kind,
            ctx.fingerprint,
            op.fingerprint.as_dict(),
            res.outputs,
            res.metrics,
            res.details,
            run.id,
            clock(),
        )
        store.step_finished(
            run.id, op.step, "kept", outputs=res.outputs, metrics=res.metrics, message=message, resource=kept
        )
        outcome.outputs[op.step] = dict(res.outputs)
        events.step_finished(op, "kept", message)
        return
    step = STEP_KINDS[op.kind].model_validate(resolved)
    if op.kind == "endpoint" and step.promote_when is not None and not _is_live(store, op.step, step.model):
        decision = gate(spec, store, op, step, outcome)
        if not decision.promote:
            reject(store, run, op, ctx, res, decision, outcome, clock)
            events.step_finished(op, "rejected", f"not promoted: {decision.reason}")
            return
        reporter.info(f"promoting: {decision.reason}")
    result = target.apply(op.kind, step, ctx)
    details = {**result.details, "resolved": resolved_digest, "target": plan.target}
    resource = Resource(
        op.step,
        op.kind,
        ctx.fingerprint,
        op.fingerprint.as_dict(),
        result.outputs,
        result.metrics,
        details,
        run.id,
        clock(),
    )
    store.step_finished(
        run.id,
        op.step,
        "succeeded",
        outputs=result.outputs,
        metrics=result.metrics,
        details=details,
        message=result.message,
        resource=resource,
    )
    if op.kind == "endpoint":
        record_live(store, spec, op, run, result, outcome, clock)
    outcome.outputs[op.step] = dict(result.outputs)
    outcome.results[op.step] = result
    events.step_finished(op, "succeeded", result.message)


def _is_live(store: StateStore, step: str, model: str) -> bool:
    """Redeploying the model that is live (a restart, --force deploy) is not a promotion to gate."""
    return any(m.until is None and m.model == model for m in store.live_models(step))


def _delete(
    target: Target, op: Op, ctx: StepContext, res: Resource | None, outcome: RunOutcome, kinds: dict[str, str]
) -> tuple[str, str]:
    """Destroy a removed step's resource, unless a step of the same kind now owns it (a renamed step)."""
    mine = {(k, str(v)) for k, v in (res.outputs if res else {}).items() if k in IDENTITY_OUTPUTS}
    for other, outputs in outcome.outputs.items():
        if other not in kinds or kinds[other] != op.kind:
            continue
        shared = mine & {(k, str(v)) for k, v in outputs.items() if k in IDENTITY_OUTPUTS}
        if shared:
            key, value = sorted(shared)[0]
            return "destroyed", f"left in place: step '{other}' now owns it ({key} {value})"
    return "destroyed", target.destroy(op.kind, ctx)


def _record_skip(store: StateStore, run: RunRecord, op: Op, res: Resource | None, clock) -> None:
    store.step_started(
        StepRun(
            run.id, op.step, op.kind, op.action, "running", op.fingerprint.digest if op.fingerprint else "", clock()
        )
    )
    # Same digest, but the recorded parts may predate how they are written now (e.g. an
    # ${env:...} value recorded in clear by an older version): rewrite them.
    refresh = None
    if res is not None and op.fingerprint is not None and res.components != op.fingerprint.as_dict():
        refresh = Resource(
            res.step,
            res.kind,
            res.fingerprint,
            op.fingerprint.as_dict(),
            res.outputs,
            res.metrics,
            res.details,
            res.run_id,
            res.updated_at,
        )
    store.step_finished(
        run.id,
        op.step,
        "skipped",
        outputs=res.outputs if res else {},
        metrics=res.metrics if res else {},
        message=op.reasons[0],
        resource=refresh,
    )


def _fail(store: StateStore, run: RunRecord, op: Op, message: str, detail: str, details: dict) -> None:
    error = message + (f"\n{detail}" if detail else "")
    store.step_finished(run.id, op.step, "failed", details=details, error=error)
    store.finish_run(run.id, "failed", message, op.step)
