"""Rollback: put a model an earlier run deployed back on an endpoint, without retraining.

Like the executor, it changes the world only through the target and records
what it did as a run of its own; the endpoint's recorded fingerprint is kept,
so the next `run` leaves the rolled-back model in place until something changes.
"""

from __future__ import annotations

import time

from .diagnostics import UsageError, did_you_mean
from .execute import RunFailed
from .graph import resolve_refs
from .spec.models import EndpointStep
from .state.base import LiveModel, Resource, StateStore, StepRun
from .targets.base import Previous, Reporter, StepContext, StepFailed, Target
from .validate import Spec


def live_of_run(store: StateStore, step: str, run_id: int) -> LiveModel:
    """The model run `run_id` put live on `step`, with its metrics and data fingerprint."""
    for live in store.live_models(step):
        if live.run_id == run_id:
            return live
    deployed = sorted({m.run_id for m in store.live_models(step)})
    hint = ("runs that deployed it: " + ", ".join(map(str, deployed))) if deployed else None
    raise UsageError(f"run {run_id} did not put a model live on '{step}'", hint)


def rollback(
    spec: Spec, store: StateStore, target: Target, step: str, run_id: int, command: str, reporter: Reporter
) -> LiveModel:
    if step not in spec.pipeline.steps:
        raise UsageError(f"no step named '{step}' in {spec.display}", did_you_mean(step, spec.pipeline.steps))
    if spec.kind(step) != "endpoint":
        raise UsageError(f"'{step}' is a {spec.kind(step)} step; rollback works on endpoint steps")
    resources = store.resources()
    current = resources.get(step)
    if current is None:
        raise UsageError(f"'{step}' is not deployed", f"python -m orchestrator run {spec.display}")
    earlier = live_of_run(store, step, run_id)
    model, metrics = earlier.model, earlier.metrics
    if model == current.outputs.get("model"):
        raise UsageError(f"run {run_id}'s model is already live on '{step}'")

    run = store.begin_run(spec.pipeline.name, target.name, command)
    outputs = {name: res.outputs for name, res in resources.items()}
    raw = dict(resolve_refs(spec.doc.data["steps"][step], outputs), model=model)
    endpoint = EndpointStep.model_validate(raw)
    ctx = StepContext(
        spec.pipeline,
        step,
        "endpoint",
        run.id,
        current.fingerprint,
        spec.root,
        spec.state_dir,
        Previous(current.fingerprint, current.outputs, current.metrics, current.details, current.run_id),
        outputs,
        reporter,
    )
    store.step_started(StepRun(run.id, step, "endpoint", "rollback", "running", current.fingerprint, time.time()))
    try:
        result = target.deploy(endpoint, ctx)
    except StepFailed as exc:
        store.step_finished(run.id, step, "failed", error=str(exc))
        store.finish_run(run.id, "failed", str(exc), step)
        raise RunFailed(run.id, step, str(exc), exc.detail) from exc
    except BaseException as exc:  # Ctrl-C, SIGTERM, a bug: the record must not stay "running"
        why = "interrupted by the user" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        store.step_finished(run.id, step, "interrupted", error=why)
        store.finish_run(run.id, "interrupted", why, step)
        raise
    details = {**current.details, **result.details, "rolled_back_to_run": run_id}
    store.step_finished(
        run.id,
        step,
        "succeeded",
        outputs=result.outputs,
        metrics=metrics,
        details=details,
        message=f"rolled back to the model of run {run_id}",
        resource=Resource(
            step,
            "endpoint",
            current.fingerprint,
            current.components,
            result.outputs,
            metrics,
            details,
            run.id,
            time.time(),
        ),
    )
    live = LiveModel(
        step, run.id, model, metrics, earlier.data_fingerprint, time.time(), reason=f"rollback to run {run_id}"
    )
    store.set_live(live)
    store.finish_run(run.id, "succeeded")
    return live
