"""The plan: what `run` would do, as frozen data with a sentence per step.

The planner only reads (the spec, the files it names, recorded state, and cheap
probes gathered by the caller); it never changes anything. `plan` prints it,
`run` shows it and hands it to the executor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .fingerprint import Fingerprint, describe_changes, fingerprint_step
from .state.base import Resource, RunRecord, StepRun
from .validate import Spec

RUN, REPLACE, SKIP, DELETE = "run", "replace", "skip", "delete"
SYMBOL = {RUN: "+", REPLACE: "~", SKIP: "=", DELETE: "-"}
BILLED_KINDS = {"training", "endpoint"}  # SageMaker bills these by the second/hour on aws
DELETE_ORDER = {"website": 0, "api": 1, "endpoint": 2, "training": 3}  # dependents go first


@dataclass(frozen=True)
class Op:
    step: str
    kind: str
    action: str
    reasons: tuple[str, ...]
    fingerprint: Fingerprint | None = None  # None for deletes
    forced: bool = False  # named by --force

    @property
    def changes(self) -> bool:
        return self.action != SKIP

    def sentence(self) -> str:
        return f"{self.step}: {'; '.join(self.reasons)}"


@dataclass(frozen=True)
class Plan:
    pipeline: str
    target: str
    state: str
    ops: tuple[Op, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def op(self, step: str) -> Op:
        return next(o for o in self.ops if o.step == step)

    @property
    def has_changes(self) -> bool:
        return any(o.changes for o in self.ops)

    def costs_money(self, op: Op) -> bool:
        return self.target == "aws" and op.kind in BILLED_KINDS and op.action in (RUN, REPLACE)

    def counts(self) -> dict[str, int]:
        out = {RUN: 0, REPLACE: 0, SKIP: 0, DELETE: 0}
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
            "ops": [
                {
                    "step": o.step,
                    "kind": o.kind,
                    "action": o.action,
                    "reason": "; ".join(o.reasons),
                    "reasons": list(o.reasons),
                    "costs_money": self.costs_money(o),
                    "fingerprint": o.fingerprint.digest if o.fingerprint else None,
                }
                for o in self.ops
            ],
        }


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
) -> Plan:
    """Decide run / replace / skip / delete for every step, with the reasons."""
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
        fp = fingerprint_step(kind, raw_steps[name], spec.root, upstream, external, from_env)
        digests[name] = fp.digest
        res = resources.get(name)
        attempt = attempts.get(name)
        unfinished = attempt.status if attempt and attempt.status in ("failed", "interrupted") else None
        action, reasons = _decide(name, kind, fp, res, force, (alive or {}).get(name), will_run & set(upstream))
        if unfinished and last_run:
            if action == SKIP:  # e.g. a forced step that failed: the resume must not skip it
                action, reasons = REPLACE, []
            reasons.append(f"resumes: it {unfinished} in run {last_run.id}")
        if action != SKIP:
            will_run.add(name)
        ops.append(Op(name, kind, action, tuple(reasons), fp, forced=name in force))
    gone = [(r.step, r.kind) for r in resources.values() if r.step not in raw_steps]
    ops.extend(_deletes(gone, "removed from the spec"))
    return Plan(spec.pipeline.name, target, spec.pipeline.state, tuple(ops), notes)


def make_destroy_plan(
    spec: Spec, target: str, resources: Mapping[str, Resource], last_attempts: Mapping[str, StepRun] | None = None
) -> Plan:
    """Everything the pipeline made, dependents first; also steps whose last attempt died
    midway, since they may have made something before their result was recorded."""
    steps = {name: (name, res.kind, "destroy requested") for name, res in resources.items()}
    for name, attempt in (last_attempts or {}).items():
        if name not in steps and attempt.status in ("failed", "interrupted") and attempt.kind != "training":
            steps[name] = (name, attempt.kind, f"its last attempt {attempt.status}: removing what it may have made")
    ops = [op for step, kind, why in steps.values() for op in _deletes([(step, kind)], why)]
    ops.sort(key=lambda o: (DELETE_ORDER.get(o.kind, 9), o.step))
    return Plan(spec.pipeline.name, target, spec.pipeline.state, tuple(ops))


def _deletes(steps: list[tuple[str, str]], why: str) -> list[Op]:
    return [
        Op(step, kind, DELETE, (why,)) for step, kind in sorted(steps, key=lambda s: (DELETE_ORDER.get(s[1], 9), s[0]))
    ]


def _decide(
    name: str, kind: str, fp: Fingerprint, res: Resource | None, force, alive: bool | None, upstream_running: set[str]
) -> tuple[str, list[str]]:
    if res is None:
        return (RUN, [f"forced with --force {name}"]) if name in force else (RUN, ["new step"])
    if name in force:
        return REPLACE, [f"forced with --force {name}"]
    if res.kind != kind:
        return REPLACE, [f"kind changed from {res.kind} to {kind}"]
    where = res.outputs.get("url") or res.outputs.get("endpoint_name") or "its resource"
    gone = f"recorded in run {res.run_id} but no longer running ({where}); starting it again"
    if res.fingerprint != fp.digest:
        changes = describe_changes(Fingerprint.from_dict(res.components), fp)
        return REPLACE, changes + ([gone] if alive is False else [])  # a dead service is never "kept"
    if alive is False:
        return RUN, [gone]
    if upstream_running:
        return REPLACE, [f"upstream will run: {', '.join(sorted(upstream_running))} (its outputs may change)"]
    return SKIP, [f"unchanged since run {res.run_id}"]


# -- rendering ---------------------------------------------------------------------


def render_text(plan: Plan) -> str:
    lines = [f"Plan for pipeline '{plan.pipeline}' (target {plan.target}, state {plan.state}):"]
    width = max((len(o.step) for o in plan.ops), default=4)
    for o in plan.ops:
        money = "  [billed]" if plan.costs_money(o) else ""
        lines.append(f"  {SYMBOL[o.action]} {o.step:<{width}}  {o.action:<7}  {'; '.join(o.reasons)}{money}")
    lines.extend(f"  note: {n}" for n in plan.notes)
    lines.append(plan.summary())
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    return json.dumps(plan.as_dict(), indent=2) + "\n"


def render_markdown(plan: Plan) -> str:
    """Fits a pull-request comment: what changes, why, and which steps cost money."""
    head = f"### orchestrator plan: `{plan.pipeline}` (target `{plan.target}`)\n\n"
    if not plan.has_changes:
        return head + "No changes. Every step is up to date.\n"
    rows = ["| | step | kind | action | why |", "|---|---|---|---|---|"]
    for o in plan.ops:
        money = " :moneybag: billed" if plan.costs_money(o) else ""
        why = "; ".join(o.reasons).replace("|", "\\|")
        rows.append(f"| {SYMBOL[o.action]} | `{o.step}` | {o.kind} | **{o.action}**{money} | {why} |")
    billed = [o.step for o in plan.ops if plan.costs_money(o)]
    tail = f"\n\n**{plan.summary()}**"
    if billed:
        tail += f" Steps that start billed SageMaker resources: {', '.join(f'`{s}`' for s in billed)}."
    notes = "".join(f"\n\n> {n}" for n in plan.notes)
    return head + "\n".join(rows) + tail + notes + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
