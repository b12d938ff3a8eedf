"""A plan for people: text for a terminal, markdown for a pull request, JSON for scripts."""

from __future__ import annotations

import json

from .ops import SYMBOL, Plan

UNDECIDED = "decided when the run starts"


def known_lines(plan: Plan) -> list[str]:
    """`site.outputs.origin = http://...`: what steps read before the step that makes it runs."""
    return [f"${{steps.{s}.outputs.{o}}} = {v if v is not None else f'({UNDECIDED})'}" for s, o, v in plan.known]


def render_text(plan: Plan) -> str:
    lines = [f"Plan for pipeline '{plan.pipeline}' (target {plan.target}, state {plan.state}):"]
    width = max((len(o.step) for o in plan.ops), default=4)
    for o in plan.ops:
        money = "  [billed]" if o.costs_money else ""
        lines.append(f"  {SYMBOL[o.action]} {o.step:<{width}}  {o.action:<7}  {o.why}{money}")
    lines.extend(f"  known: {line}" for line in known_lines(plan))
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
        money = " :moneybag: billed" if o.costs_money else ""
        why = o.why.replace("|", "\\|")
        rows.append(f"| {SYMBOL[o.action]} | `{o.step}` | {o.kind} | **{o.action}**{money} | {why} |")
    billed = [o.step for o in plan.ops if o.costs_money]
    tail = f"\n\n**{plan.summary()}**"
    if billed:
        tail += f" Steps that start billed SageMaker resources: {', '.join(f'`{s}`' for s in billed)}."
    notes = "".join(f"\n\n> {n}" for n in plan.notes)
    if plan.known:
        notes = "\n\nKnown before the run: " + "; ".join(f"`{line}`" for line in known_lines(plan)) + notes
    return head + "\n".join(rows) + tail + notes + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
