"""The plan stage: what a command would do, as frozen data with a typed cause per decision."""

from .ops import ACTIONS, DELETE, GATE_ONLY, REPLACE, RUN, SKIP, SYMBOL, UPSTREAM_ONLY, Cause, Op, Plan, Reason, Restore
from .planner import make_destroy_plan, make_plan, make_rollback_plan, recorded_deps
from .render import RENDERERS, render_json, render_markdown, render_text

__all__ = [
    "ACTIONS",
    "DELETE",
    "GATE_ONLY",
    "RENDERERS",
    "REPLACE",
    "RUN",
    "SKIP",
    "SYMBOL",
    "UPSTREAM_ONLY",
    "Cause",
    "Op",
    "Plan",
    "Reason",
    "Restore",
    "make_destroy_plan",
    "make_plan",
    "make_rollback_plan",
    "recorded_deps",
    "render_json",
    "render_markdown",
    "render_text",
]
