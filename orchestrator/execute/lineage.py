"""Which model is live on each serving step, and the promotion gate a new one must pass.

Part of the executor: every promotion is recorded with its run, metrics and the
fingerprint of the data it was trained on; a rejection keeps the live model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import StepFailed
from ..plan import Op
from ..spec.kinds import KINDS
from ..spec.models import PromoteWhen
from ..state.base import LiveModel, Resource, RunRecord, StateStore
from ..targets.base import StepContext, StepResult
from ..validate import Spec
from .promotion import Decision, decide

if TYPE_CHECKING:
    from .executor import RunOutcome


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def is_live(store: StateStore, step: str, model: str) -> bool:
    """Redeploying the model that is live (a restart, --force deploy) is not a promotion to gate."""
    return any(m.until is None and m.model == model for m in store.live_models(step))


def gate_source(spec: Spec, step: str) -> str | None:
    """The step whose report gates this one (`promote_when.from`), if it names one."""
    promote_when = getattr(spec.pipeline.steps[step], "promote_when", None)
    return promote_when.from_ if promote_when is not None else None


def _metrics_of(store: StateStore, outcome: RunOutcome, step: str) -> dict[str, float]:
    """This run's metrics of a step, or the recorded ones when it was kept."""
    src = outcome.results.get(step)
    res = store.resources().get(step)
    return dict(src.metrics if src else (res.metrics if res else {}))


def source_metrics(spec: Spec, store: StateStore, op: Op, outcome: RunOutcome) -> tuple[dict[str, float], str]:
    """The metrics of a serving step's model and the fingerprint of the data it was trained on.

    The metrics are the step's that produced the model, or the report's of the step its gate
    reads (`promote_when.from`, an evaluation on held-out data), so `beats_live` compares like with like.
    """
    source = next((dep for dep in spec.graph.deps[op.step] if KINDS[spec.kind(dep)].reports_metrics), None)
    evaluation = gate_source(spec, op.step)
    metrics = _metrics_of(store, outcome, evaluation or source) if (evaluation or source) else {}
    res = store.resources().get(source) if source else None
    data = (res.components.get("data") if res else None) or {}
    return metrics, digest(data) if data else ""


def gate(spec: Spec, store: StateStore, op: Op, promote_when: PromoteWhen, outcome: RunOutcome) -> Decision:
    new_metrics, _ = source_metrics(spec, store, op, outcome)
    live = [m for m in store.live_models(op.step) if m.until is None]
    live_metrics = live[0].metrics if live else None
    if promote_when.from_ and promote_when.metric not in new_metrics:
        known = ", ".join(sorted(new_metrics)) or "none"
        reason = f"the report of step '{promote_when.from_}' has no '{promote_when.metric}' (its metrics: {known})"
        return Decision(False, reason, None, (live_metrics or {}).get(promote_when.metric))
    return decide(promote_when, new_metrics, live_metrics)


def reject(
    store: StateStore,
    run: RunRecord,
    op: Op,
    ctx: StepContext,
    res: Resource | None,
    decision: Decision,
    outcome: RunOutcome,
    clock,
) -> None:
    """Keep the live model, and remember this verdict so later runs do not ask again.

    The step's fingerprint is recorded (its outputs stay the live model's), so the
    pipeline settles: the next run skips it until something changes or it is forced.
    With nothing live to keep, the steps after this one cannot run: the step fails.
    """
    message = f"not promoted: {decision.reason}"
    details = {"decision": decision.reason, "new": decision.new_value, "live": decision.live_value}
    if res is None:
        raise StepFailed(f"{message}; no live model to keep", details=details)
    kept = replace(
        res,
        fingerprint=ctx.fingerprint,
        components=op.fingerprint.as_dict() if op.fingerprint else res.components,
        details={**res.details, "rejected": details},
        run_id=run.id,
        updated_at=clock(),
    )
    store.step_finished(
        run.id, op.step, "rejected", outputs=res.outputs, metrics={}, details=details, message=message, resource=kept
    )
    outcome.outputs[op.step] = dict(res.outputs)
    outcome.rejected[op.step] = decision.reason


def record_live(
    store: StateStore, spec: Spec, op: Op, run: RunRecord, result: StepResult, outcome: RunOutcome, clock
) -> None:
    """Lineage: the step now serves this model, trained from this data, with these metrics.

    A rollback restores the lineage of the run it goes back to.
    """
    model = str(result.outputs.get("model", ""))
    if op.restore is not None:
        metrics, data_fp = dict(op.restore.metrics), op.restore.data_fingerprint
    else:
        metrics, data_fp = source_metrics(spec, store, op, outcome)
    current = store.live_models(op.step)
    if current and current[0].until is None and current[0].model == model:
        return
    store.set_live(LiveModel(op.step, run.id, model, metrics, data_fp, clock(), reason=op.why))
