"""The executor: the only stage that changes the world.

It walks a plan in order, resolves each step's references from the outputs
recorded so far, hands the step to the target and records every start, success
and failure as it happens, so a crash loses nothing and the next run resumes.
`run`, `destroy` and `rollback` all come through here, each with its own plan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import RunFailed, StepFailed, TargetError
from ..graph import UnresolvedReference, resolve_refs, told_refs
from ..plan import DELETE, GATE_ONLY, SKIP, UPSTREAM_ONLY, Cause, Op, Plan
from ..spec.kinds import KINDS
from ..spec.names import leftover_step
from ..state.base import Resource, RunRecord, StateStore, StepRun
from ..targets.base import Previous, Reporter, StepContext, StepResult, Target
from ..validate import Spec
from .lineage import digest, gate, is_live, record_live, reject
from .schedule import SerializedStore, run_ops

KEPT_MESSAGE = "its inputs came out unchanged"
GATE_KEPT_MESSAGE = "only its promotion gate changed: the live model stays deployed as it is"


@dataclass
class RunOutcome:
    run: RunRecord
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, StepResult] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)  # step -> why its new model was not promoted


class StepEvents:
    """What the executor tells the user as steps start and end (the CLI draws it)."""

    def step_started(self, op: Op) -> None: ...
    def step_finished(self, op: Op, status: str, message: str) -> None: ...

    def reporter_for(self, op: Op) -> Reporter | None:
        """Where this step's target reports (its own lines, when steps run at once); None: the run's reporter."""
        return None


def execute(
    spec: Spec,
    plan: Plan,
    target: Target,
    store: StateStore,
    command: str,
    reporter: Reporter,
    events: StepEvents | None = None,
    clock: Callable[[], float] = time.time,
    parallelism: int = 1,
) -> RunOutcome:
    """Carry out `plan` on `target`, recording everything in `store`; raise RunFailed at a failed step.

    With `parallelism` above 1, independent steps run at the same time (see schedule.py).
    """
    executor = Executor(spec, plan, target, store, reporter, events or StepEvents(), clock, parallelism)
    return executor.run(command)


class Executor:
    """One run of one plan; holds what every step's execution needs."""

    def __init__(self, spec: Spec, plan: Plan, target: Target, store: StateStore, reporter: Reporter,
                 events: StepEvents, clock: Callable[[], float], parallelism: int = 1):  # fmt: skip
        self.spec = spec
        self.plan = plan
        self.target = target
        self.store = SerializedStore(store) if parallelism > 1 else store
        self.reporter = reporter
        self.events = events
        self.clock = clock
        self.parallelism = parallelism
        self.resources = store.resources()
        self._outputs = threading.Lock()
        self._running: list[str] = []  # steps started and not yet recorded as finished

    def run(self, command: str) -> RunOutcome:
        known = self._known_before()  # before the run begins: a target that cannot tell them refuses it whole
        run = self.store.begin_run(self.spec.pipeline.name, self.plan.target, command)
        outcome = RunOutcome(run=run)
        planned = {op.step for op in self.plan.ops}
        for name, res in self.resources.items():  # steps the plan leaves out (a rollback) keep their outputs
            if name not in planned:
                outcome.outputs[name] = dict(res.outputs)
        for name, values in known.items():  # e.g. a site's origin, which its API's CORS names
            outcome.outputs[name] = {**outcome.outputs.get(name, {}), **values}
        try:
            failures = run_ops(self.plan.ops, lambda op: self._one(run, op, outcome), self.parallelism)
        except KeyboardInterrupt:
            stopped = self._running[0] if self._running else None
            self.store.finish_run(run.id, "interrupted", "interrupted by the user", stopped)
            raise
        if failures:
            first = failures[0]
            step = first.step if isinstance(first, RunFailed) else None
            message = str(first) if isinstance(first, RunFailed) else f"internal error: {type(first).__name__}: {first}"
            self.store.finish_run(run.id, "failed", message, step)
            if isinstance(first, RunFailed):
                first.others = tuple(f for f in failures[1:] if isinstance(f, RunFailed))
            raise first
        self.store.finish_run(run.id, "succeeded")
        outcome.run = self.store.runs(limit=1)[0]
        return outcome

    def _known_before(self) -> dict[str, dict[str, Any]]:
        """What the steps about to run read from steps that have not run yet (spec.kinds `known_before`),
        settled by the target now, so both sides of the reference see one value."""
        raw = self.spec.doc.data["steps"]
        applied = [op.step for op in self.plan.ops if op.action not in (SKIP, DELETE) and op.step in raw]
        named = {ref.step for ref in told_refs(raw, applied) if ref.step in self.spec.pipeline.steps}
        if not named:
            return {}
        recorded = {name: res.outputs for name, res in self.resources.items()}
        return self.target.known_outputs(sorted(named), recorded, settle=True)

    def _one(self, run: RunRecord, op: Op, outcome: RunOutcome) -> None:
        """One op, recorded as it starts and ends; a failure is recorded, then raised as RunFailed."""
        res = self.resources.get(op.step)
        if op.action == SKIP:
            self._skip(run, op, res, outcome)
            return
        ctx = self._context(run, op, res, outcome)
        self.events.step_started(op)
        self.store.step_started(StepRun(run.id, op.step, op.kind, op.action, "running", ctx.fingerprint, self.clock()))
        self._running.append(op.step)
        try:
            if op.action == DELETE:
                self._delete(run, op, ctx, res, outcome)
            else:
                self._apply(run, op, ctx, res, outcome)
        except (StepFailed, TargetError) as exc:
            detail = exc.detail if isinstance(exc, StepFailed) else (f"hint: {exc.hint}" if exc.hint else "")
            self._fail(run, op, str(exc), detail, getattr(exc, "details", {}))
            self.events.step_finished(op, "failed", str(exc))
            self._running.remove(op.step)
            raise RunFailed(run.id, op.step, str(exc), detail) from exc
        except KeyboardInterrupt:  # the step stays in _running: the run's record names it
            self.store.step_finished(run.id, op.step, "interrupted", error="interrupted by the user")
            self.events.step_finished(op, "interrupted", "interrupted by the user")
            raise
        except Exception as exc:  # a bug: recorded as one, then shown by the CLI
            self._fail(run, op, f"internal error: {type(exc).__name__}: {exc}", "", {})
            self._running.remove(op.step)
            raise
        self._running.remove(op.step)

    def _set_output(self, outcome: RunOutcome, step: str, outputs: dict[str, Any]) -> None:
        with self._outputs:
            outcome.outputs[step] = dict(outputs)

    def _outputs_now(self, outcome: RunOutcome) -> dict[str, dict[str, Any]]:
        with self._outputs:
            return dict(outcome.outputs)

    def _context(self, run: RunRecord, op: Op, res: Resource | None, outcome: RunOutcome) -> StepContext:
        previous = Previous(res.fingerprint, res.outputs, res.metrics, res.details, res.run_id) if res else None
        return StepContext(
            pipeline=self.spec.pipeline,
            step=op.step,
            kind=op.kind,
            run_id=run.id,
            fingerprint=op.fingerprint.digest if op.fingerprint else (res.fingerprint if res else ""),
            project_dir=self.spec.root,
            state_dir=self.spec.state_dir,
            previous=previous,
            upstream=self._outputs_now(outcome),
            reporter=self.events.reporter_for(op) or self.reporter,
            forced=op.forced,
            from_env=self._from_env(op.step),
        )

    def _from_env(self, step: str) -> frozenset[str]:
        """The values this step's spec took from ${env:...}, as the target must keep them off disk."""
        values = set()
        for path in self.spec.doc.interpolated:
            if path[:2] != ("steps", step):
                continue
            value = self.spec.doc.data
            try:
                for key in path:
                    value = value[key]
            except (KeyError, IndexError, TypeError):
                continue
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                values.add(str(value))
        return frozenset(values)

    def _skip(self, run: RunRecord, op: Op, res: Resource | None, outcome: RunOutcome) -> None:
        digest_now = op.fingerprint.digest if op.fingerprint else ""
        self.store.step_started(StepRun(run.id, op.step, op.kind, op.action, "running", digest_now, self.clock()))
        # Same digest, but the recorded parts may predate how they are written now (e.g. an
        # ${env:...} value recorded in clear by an older version): rewrite them.
        refresh = None
        if res is not None and op.fingerprint is not None and res.components != op.fingerprint.as_dict():
            refresh = replace(res, components=op.fingerprint.as_dict())
        self.store.step_finished(
            run.id,
            op.step,
            "skipped",
            outputs=res.outputs if res else {},
            metrics=res.metrics if res else {},
            message=op.reasons[0].sentence(),
            resource=refresh,
        )
        self._set_output(outcome, op.step, res.outputs if res else {})
        self.events.step_finished(op, "skipped", op.reasons[0].sentence())

    def _apply(self, run: RunRecord, op: Op, ctx: StepContext, res: Resource | None, outcome: RunOutcome) -> None:
        """Run or replace one step; record its result (or why it was kept or rejected)."""
        try:
            resolved = resolve_refs(self.spec.doc.data["steps"][op.step], self._outputs_now(outcome))
        except UnresolvedReference as exc:
            raise StepFailed(
                str(exc), "e.g. a training script that wrote nothing to SM_OUTPUT_DATA_DIR has no 'data' output"
            ) from exc
        if op.restore is not None:
            resolved = {**resolved, "model": op.restore.model}
        kind = KINDS[op.kind]
        deployed = {key: value for key, value in resolved.items() if key not in kind.gates}
        resolved_digest = digest(deployed)
        # a record made before gates were left out of the digest holds the whole config's: accept it too, once
        same = {resolved_digest, digest(resolved)}
        kept_because = self._nothing_to_deploy(op, res, same, resolved.get("model")) if res else None
        if res and kept_because:
            # What this step deploys came out the same (only upstream steps moved, or only its
            # promotion gate changed while its model is live): nothing to redeploy. Its record
            # moves to the new fingerprint, so the next plan is clean.
            kept = replace(res, fingerprint=ctx.fingerprint, components=op.fingerprint.as_dict(), run_id=run.id,
                           updated_at=self.clock(), resolved=resolved_digest)  # fmt: skip
            self.store.step_finished(run.id, op.step, "kept", outputs=res.outputs, metrics=res.metrics,
                                     message=kept_because, resource=kept)  # fmt: skip
            self._set_output(outcome, op.step, res.outputs)
            self.events.step_finished(op, "kept", kept_because)
            return
        step = kind.model.model_validate(resolved)
        if kind.serves_model and op.restore is None:
            promote_when = getattr(step, "promote_when", None)
            if promote_when is not None and not is_live(self.store, op.step, step.model):
                decision = gate(self.spec, self.store, op, promote_when, outcome)
                if not decision.promote:
                    reject(self.store, run, op, ctx, res, decision, outcome, self.clock)
                    self.events.step_finished(op, "rejected", f"not promoted: {decision.reason}")
                    return
                self.reporter.info(f"promoting: {decision.reason}")
        result = self.target.apply(op.kind, step, ctx)
        metrics = dict(op.restore.metrics) if op.restore is not None else result.metrics
        message = f"rolled back to the model of run {op.restore.run_id}" if op.restore is not None else result.message
        components = op.fingerprint.as_dict() if op.fingerprint else {}
        resource = Resource(op.step, op.kind, ctx.fingerprint, components, result.outputs, metrics, result.details,
                            run.id, self.clock(), target=self.plan.target, resolved=resolved_digest)  # fmt: skip
        self.store.step_finished(run.id, op.step, "succeeded", outputs=result.outputs, metrics=metrics,
                                 details=result.details, message=message, resource=resource)  # fmt: skip
        if kind.serves_model:
            record_live(self.store, self.spec, op, run, result, outcome, self.clock)
        if res is not None and res.kind == op.kind:
            self._retire_renamed(run, op, ctx, res, result)
        self._set_output(outcome, op.step, result.outputs)
        outcome.results[op.step] = result
        self.events.step_finished(op, "succeeded", message)

    def _nothing_to_deploy(self, op: Op, res: Resource, resolved: set[str], model: Any) -> str | None:
        """Why applying `op` would deploy what is already there (a sentence), or None: deploy it."""
        if not op.causes or not op.causes <= UPSTREAM_ONLY | GATE_ONLY:
            return None
        if Cause.GATE_CHANGED in op.causes:
            if not is_live(self.store, op.step, str(model)):
                return None  # a model the old gate refused: the new gate decides on it
            if op.causes == GATE_ONLY:
                return GATE_KEPT_MESSAGE
        return KEPT_MESSAGE if res.resolved in resolved else None

    def _retire_renamed(self, run: RunRecord, op: Op, ctx: StepContext, old: Resource, result: StepResult) -> None:
        """A resource renamed in place (a new endpoint_name): its replacement is up, so the old one goes.

        If removing it fails, it is recorded as a step of its own that left the spec, so the
        next run (or destroy) removes it: nothing is left running unrecorded.
        """
        key = KINDS[op.kind].name_output
        old_name, new_name = old.outputs.get(key) if key else None, result.outputs.get(key) if key else None
        if not old_name or old_name == new_name:
            return
        try:
            message = self.target.retire(op.kind, ctx)
        except (StepFailed, TargetError) as exc:
            leftover = leftover_step(op.step, old_name)
            self.store.step_started(StepRun(run.id, leftover, op.kind, op.action, "running", old.fingerprint,
                                            self.clock()))  # fmt: skip
            self.store.step_finished(run.id, leftover, "failed", error=str(exc), resource=replace(old, step=leftover))
            self.reporter.warn(f"{op.step}: {old_name} was renamed to {new_name}, but removing {old_name} failed "
                               f"({exc}); the next run removes it")  # fmt: skip
            return
        if message:
            self.reporter.info(f"renamed from {old_name}: {message}")

    def _delete(self, run: RunRecord, op: Op, ctx: StepContext, res: Resource | None, outcome: RunOutcome) -> None:
        """Destroy a removed step's resource, unless a step of the same kind now owns it (a renamed step)."""
        identity = KINDS[op.kind].identity
        mine = {(k, str(v)) for k, v in (res.outputs if res else {}).items() if k in identity}
        message = None
        for other, outputs in self._outputs_now(outcome).items():
            step = self.spec.pipeline.steps.get(other)
            if step is None or step.type != op.kind:
                continue
            shared = mine & {(k, str(v)) for k, v in outputs.items() if k in identity}
            if shared:
                key, value = sorted(shared)[0]
                message = f"left in place: step '{other}' now owns it ({key} {value})"
                break
        if message is None:
            message = self.target.destroy(op.kind, ctx)
        self.store.step_finished(run.id, op.step, "destroyed", message=message, remove_resource=True)
        self.events.step_finished(op, "destroyed", message)

    def _fail(self, run: RunRecord, op: Op, message: str, detail: str, details: dict) -> None:
        error = message + (f"\n{detail}" if detail else "")
        self.store.step_finished(run.id, op.step, "failed", details=details, error=error)
