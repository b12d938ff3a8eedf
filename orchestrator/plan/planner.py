"""The planner: what a command would do, decided from the spec, its files and recorded state.

It only reads (the spec, the files it names, recorded state, and cheap probes the
caller gathered); it never changes anything. `run`, `destroy` and `rollback` each
show their plan, then hand exactly that plan to the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..errors import UsageError
from ..fingerprint import Fingerprint, fingerprint_step
from ..graph import told_refs
from ..spec.kinds import KINDS
from ..state.base import LiveModel, Resource, RunRecord, StepRun
from ..validate import Spec
from .changes import describe_changes
from .ops import DELETE, REPLACE, RUN, SKIP, Cause, Op, Plan, Reason, Restore

Billed = Callable[[str], bool]  # does applying a step of this kind cost money on the target?


def _never(kind: str) -> bool:
    return False


def make_plan(
    spec: Spec,
    target: str,
    resources: Mapping[str, Resource],
    last_run: RunRecord | None = None,
    last_attempts: Mapping[str, StepRun] | None = None,
    alive: Mapping[str, bool | None] | None = None,
    force: set[str] | frozenset[str] = frozenset(),
    external: Mapping[str, str] | None = None,
    notes: tuple[str, ...] = (),
    billed: Billed = _never,
    known: Mapping[str, Mapping[str, str]] | None = None,
) -> Plan:
    """Decide run / replace / skip / delete for every step, with the causes.

    `known`: outputs the target tells before their step runs (a site's origin), by step.
    """
    raw_steps = spec.doc.data["steps"]
    digests: dict[str, str] = {}
    ops: list[Op] = []
    will_run: set[str] = set()
    attempts = last_attempts or {}
    for name in spec.graph.order:
        kind = spec.kind(name)
        upstream = {dep: digests[dep] for dep in spec.graph.deps[name]}
        from_env = {
            path[2:]: template for path, template in spec.doc.interpolated.items() if path[:2] == ("steps", name)
        }
        fp = fingerprint_step(kind, raw_steps[name], spec.root, upstream, external, from_env, spec.pipeline.steps[name])
        digests[name] = fp.digest
        res = resources.get(name)
        attempt = attempts.get(name)
        unfinished = attempt.status if attempt and attempt.status in ("failed", "interrupted") else None
        action, reasons = _decide(name, kind, fp, res, force, (alive or {}).get(name), will_run & set(upstream))
        if unfinished and last_run:
            if action == SKIP:  # e.g. a forced step that failed: the resume must not skip it
                action, reasons = REPLACE, []
            reasons.append(Reason(Cause.RESUMES, (unfinished, str(last_run.id))))
        if action != SKIP:
            will_run.add(name)
        after = tuple(spec.graph.deps[name])
        ops.append(Op(name, kind, action, tuple(reasons), fp, forced=name in force, billed=billed(kind), after=after))
    gone = {name: res.kind for name, res in resources.items() if name not in raw_steps}
    reason = Reason(Cause.REMOVED_FROM_SPEC)
    # A removed step goes once every step of the spec is applied: they may have used it until now.
    applied = tuple(spec.graph.order)
    deletes = _deletes({name: (kind, reason) for name, kind in gone.items()}, recorded_deps(spec, resources), applied)
    ops.extend(deletes)
    named = told_refs(raw_steps, spec.graph.order)
    told = tuple((r.step, r.output, (known or {}).get(r.step, {}).get(r.output)) for r in named)
    return Plan(spec.pipeline.name, target, spec.pipeline.state, tuple(ops), notes, told)


def make_destroy_plan(
    spec: Spec, target: str, resources: Mapping[str, Resource], last_attempts: Mapping[str, StepRun] | None = None
) -> Plan:
    """Everything the pipeline made, dependents first; also steps whose last attempt died
    midway, since they may have made something before their result was recorded."""
    steps = {name: (res.kind, Reason(Cause.DESTROY_REQUESTED)) for name, res in resources.items()}
    for name, attempt in (last_attempts or {}).items():
        unfinished = attempt.status in ("failed", "interrupted")
        if name not in steps and unfinished and KINDS[attempt.kind].unfinished_leaves_resources:
            steps[name] = (attempt.kind, Reason(Cause.UNFINISHED, (attempt.status,)))
    ops = _deletes(steps, recorded_deps(spec, resources))
    return Plan(spec.pipeline.name, target, spec.pipeline.state, tuple(ops))


def make_rollback_plan(
    spec: Spec,
    target: str,
    resources: Mapping[str, Resource],
    lineage: list[LiveModel],
    step: str,
    run_id: int,
    billed: Billed = _never,
) -> Plan:
    """One op: the step's model replaced with the one run `run_id` put live, without retraining.

    The step keeps its recorded fingerprint, so the next `run` leaves the rolled-back
    model in place until something the step depends on changes.
    """
    if step not in spec.pipeline.steps:
        from ..diagnostics import did_you_mean

        hint = did_you_mean(step, spec.pipeline.steps) or "steps: " + ", ".join(spec.pipeline.steps)
        raise UsageError(f"no step named '{step}' in {spec.display}", hint)
    kind = spec.kind(step)
    if not KINDS[kind].serves_model:
        serving = ", ".join(k for k, record in KINDS.items() if record.serves_model)
        choices = [name for name, s in spec.pipeline.steps.items() if KINDS[s.type].serves_model]
        hint = f"e.g. --step {choices[0]}" if choices else f"{spec.display} has no {serving} step"
        raise UsageError(f"'{step}' is a {kind} step; rollback works on {serving} steps", hint)
    current = resources.get(step)
    if current is None:
        raise UsageError(f"'{step}' is not deployed", f"python -m orchestrator run {spec.display}")
    earlier = next((live for live in lineage if live.run_id == run_id), None)
    if earlier is None:
        deployed = sorted({m.run_id for m in lineage})
        hint = ("runs that deployed it: " + ", ".join(map(str, deployed))) if deployed else None
        raise UsageError(f"run {run_id} did not put a model live on '{step}'", hint or f"'{step}' has no lineage yet")
    if earlier.model == current.outputs.get("model"):
        raise UsageError(
            f"run {run_id}'s model is already live on '{step}'",
            f"python -m orchestrator history {spec.display} shows which run deployed which model",
        )
    restore = Restore(run_id, earlier.model, dict(earlier.metrics), earlier.data_fingerprint)
    op = Op(
        step,
        kind,
        REPLACE,
        (Reason(Cause.ROLLBACK, (str(run_id),)),),
        Fingerprint.from_dict(current.components),
        billed=billed(kind),
        restore=restore,
    )
    return Plan(spec.pipeline.name, target, spec.pipeline.state, (op,))


def recorded_deps(spec: Spec, resources: Mapping[str, Resource]) -> dict[str, set[str]]:
    """Who depends on whom, as recorded when each resource was made, plus the spec's graph."""
    deps: dict[str, set[str]] = {name: set(spec.graph.deps.get(name, ())) for name in spec.graph.order}
    for name, res in resources.items():
        deps.setdefault(name, set()).update(res.components.get("upstream", {}))
    return deps


def _deletes(
    steps: Mapping[str, tuple[str, Reason]], deps: Mapping[str, Iterable[str]], after: tuple[str, ...] = ()
) -> list[Op]:
    """Delete ops, dependents before what they depend on (ties in name order), each after `after`."""
    names = set(steps)
    waits = {name: _dependents(name, deps) & names for name in names}  # also through steps that stay
    order: list[str] = []
    while len(order) < len(names):
        ready = sorted(n for n in names - set(order) if waits[n] <= set(order))
        order.append(ready[0] if ready else sorted(names - set(order))[0])  # a recorded cycle cannot happen
    return [Op(name, steps[name][0], DELETE, (steps[name][1],), after=after + tuple(sorted(waits[name])))
            for name in order]  # fmt: skip


def _dependents(name: str, deps: Mapping[str, Iterable[str]]) -> set[str]:
    """Every step that depends on `name`, directly or through others."""
    out: set[str] = set()
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for step, uses in deps.items():
            if current in uses and step not in out and step != name:
                out.add(step)
                frontier.append(step)
    return out


def _decide(
    name: str, kind: str, fp: Fingerprint, res: Resource | None, force, alive: bool | None, upstream_running: set[str]
) -> tuple[str, list[Reason]]:
    forced = Reason(Cause.FORCED, (name,))
    if res is None:
        return RUN, [forced if name in force else Reason(Cause.NEW)]
    if name in force:
        return REPLACE, [forced]
    if res.kind != kind:
        return REPLACE, [Reason(Cause.KIND_CHANGED, (res.kind, kind))]
    where = next((str(res.outputs[k]) for k in KINDS[kind].identity if res.outputs.get(k)), "its resource")
    gone = Reason(Cause.GONE, (str(res.run_id), where))
    if res.fingerprint != fp.digest:
        old = Fingerprint.from_dict(res.components)
        changes = describe_changes(old, fp, KINDS[kind].gates)
        if res.details.get("rejected"):  # the last candidate was refused: the new gate decides on it again
            changes = [Reason(Cause.GATE_RETRY, r.args) if r.cause is Cause.GATE_CHANGED else r for r in changes]
        recreated = KINDS[kind].recreated_by
        what = recreated(old.config, fp.config) if recreated else None
        if what:
            changes.append(Reason(Cause.RECREATED, (what,)))
        return REPLACE, changes + ([gone] if alive is False else [])  # a dead service is never "kept"
    if alive is False:
        return RUN, [gone]
    if upstream_running:
        return REPLACE, [Reason(Cause.UPSTREAM_WILL_RUN, (", ".join(sorted(upstream_running)),))]
    return SKIP, [Reason(Cause.UNCHANGED, (str(res.run_id),))]
