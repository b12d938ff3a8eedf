"""The executor: the only stage that changes the world.

It walks a plan in order, resolves each step's references from the outputs
recorded so far, hands the step to the target and records every start, success
and failure as it happens, so a crash loses nothing and the next run resumes.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .graph import UnresolvedReference, resolve_refs
from .plan import DELETE, SKIP, Op, Plan
from .spec.models import STEP_KINDS
from .state.base import LiveModel, Resource, RunRecord, StateStore, StepRun
from .targets.base import Previous, Reporter, StepContext, StepFailed, StepResult, Target
from .validate import Spec


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


def execute(spec: Spec, plan: Plan, target: Target, store: StateStore, command: str,
            reporter: Reporter, events: StepEvents | None = None,
            clock: Callable[[], float] = time.time) -> RunOutcome:
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
            pipeline=spec.pipeline, step=op.step, kind=op.kind, run_id=run.id,
            fingerprint=op.fingerprint.digest if op.fingerprint else (res.fingerprint if res else ""),
            project_dir=spec.root, state_dir=spec.state_dir,
            previous=Previous(res.fingerprint, res.outputs, res.metrics, res.details, res.run_id) if res else None,
            upstream=outcome.outputs, reporter=reporter, forced=op.forced,
        )
        events.step_started(op)
        store.step_started(StepRun(run.id, op.step, op.kind, op.action, "running", ctx.fingerprint, clock()))
        try:
            if op.action == DELETE:
                message = target.destroy(op.kind, ctx)
                store.step_finished(run.id, op.step, "destroyed", message=message, remove_resource=True)
                events.step_finished(op, "destroyed", message)
                continue
            try:
                resolved = resolve_refs(spec.doc.data["steps"][op.step], outcome.outputs)
            except UnresolvedReference as exc:
                raise StepFailed(str(exc), "e.g. a training script that wrote nothing to SM_OUTPUT_DATA_DIR "
                                           "has no 'data' output") from exc
            resolved_digest = _digest(resolved)
            if res and res.fingerprint == ctx.fingerprint and res.details.get("resolved") == resolved_digest \
                    and op.reasons[0].startswith("upstream will run"):
                message = "its inputs came out unchanged"
                store.step_finished(run.id, op.step, "kept", outputs=res.outputs, metrics=res.metrics, message=message)
                outcome.outputs[op.step] = dict(res.outputs)
                events.step_finished(op, "kept", message)
                continue
            step = STEP_KINDS[op.kind].model_validate(resolved)
            if op.kind == "endpoint" and step.promote_when is not None:
                decision = _gate(spec, store, op, step, outcome)
                if not decision.promote:
                    _reject(store, run, op, res, decision, outcome)
                    events.step_finished(op, "rejected", f"not promoted: {decision.reason}")
                    continue
                reporter.info(f"promoting: {decision.reason}")
            result = target.apply(op.kind, step, ctx)
        except StepFailed as exc:
            _fail(store, run, op, str(exc), exc.detail, exc.details)
            events.step_finished(op, "failed", str(exc))
            raise RunFailed(run.id, op.step, str(exc), exc.detail) from exc
        except RunFailed:
            raise
        except KeyboardInterrupt:
            store.step_finished(run.id, op.step, "interrupted", error="interrupted by the user")
            store.finish_run(run.id, "interrupted", "interrupted by the user", op.step)
            raise
        except Exception as exc:
            _fail(store, run, op, f"internal error: {type(exc).__name__}: {exc}", "", {})
            raise
        details = {**result.details, "resolved": resolved_digest}
        resource = Resource(op.step, op.kind, ctx.fingerprint, op.fingerprint.as_dict(), result.outputs,
                            result.metrics, details, run.id, clock())
        store.step_finished(run.id, op.step, "succeeded", outputs=result.outputs, metrics=result.metrics,
                            details=details, message=result.message, resource=resource)
        if op.kind == "endpoint":
            _record_live(store, spec, op, run, result, outcome, clock)
        outcome.outputs[op.step] = dict(result.outputs)
        outcome.results[op.step] = result
        events.step_finished(op, "succeeded", result.message)
    store.finish_run(run.id, "succeeded")
    outcome.run = store.runs(limit=1)[0]
    return outcome


def _record_skip(store: StateStore, run: RunRecord, op: Op, res: Resource | None, clock) -> None:
    store.step_started(StepRun(run.id, op.step, op.kind, op.action, "running",
                               op.fingerprint.digest if op.fingerprint else "", clock()))
    store.step_finished(run.id, op.step, "skipped", outputs=res.outputs if res else {},
                        metrics=res.metrics if res else {}, message=op.reasons[0])


def _fail(store: StateStore, run: RunRecord, op: Op, message: str, detail: str, details: dict) -> None:
    error = message + (f"\n{detail}" if detail else "")
    store.step_finished(run.id, op.step, "failed", details=details, error=error)
    store.finish_run(run.id, "failed", message, op.step)


def _lineage(spec: Spec, store: StateStore, op: Op, outcome: RunOutcome) -> tuple[dict[str, float], str]:
    """The metrics and data fingerprint of the training step that produced an endpoint's model."""
    source = next((dep for dep in spec.graph.deps[op.step] if spec.kind(dep) == "training"), None)
    if not source:
        return {}, ""
    src = outcome.results.get(source)
    res = store.resources().get(source)
    metrics = dict(src.metrics if src else (res.metrics if res else {}))
    data = (res.components.get("data") if res else None) or {}
    return metrics, _digest(data) if data else ""


def _gate(spec: Spec, store: StateStore, op: Op, step: Any, outcome: RunOutcome):
    from .promotion import decide

    new_metrics, _ = _lineage(spec, store, op, outcome)
    live = [m for m in store.live_models(op.step) if m.until is None]
    return decide(step.promote_when, new_metrics, live[0].metrics if live else None)


def _reject(store: StateStore, run: RunRecord, op: Op, res: Resource | None, decision, outcome: RunOutcome) -> None:
    """Keep the live model. With nothing live to keep, the steps after this one cannot run."""
    message = f"not promoted: {decision.reason}"
    details = {"decision": decision.reason, "new": decision.new_value, "live": decision.live_value}
    if res is None:
        _fail(store, run, op, f"{message}; no live model to keep", "", details)
        raise RunFailed(run.id, op.step, f"{message}; no live model to keep")
    store.step_finished(run.id, op.step, "rejected", outputs=res.outputs, metrics={}, details=details, message=message)
    outcome.outputs[op.step] = dict(res.outputs)
    outcome.rejected[op.step] = decision.reason


def _record_live(store: StateStore, spec: Spec, op: Op, run: RunRecord, result: StepResult,
                 outcome: RunOutcome, clock) -> None:
    """Lineage: the endpoint now serves this model, trained from this data, with these metrics."""
    model = str(result.outputs.get("model", ""))
    metrics, data_fp = _lineage(spec, store, op, outcome)
    current = store.live_models(op.step)
    if current and current[0].until is None and current[0].model == model:
        return
    store.set_live(LiveModel(op.step, run.id, model, metrics, data_fp, clock(), reason="; ".join(op.reasons)))


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
