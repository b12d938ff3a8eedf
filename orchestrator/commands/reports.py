"""Reports on recorded state: `status` (what is deployed now) and `history` (what happened)."""

from __future__ import annotations

from typing import Any

from ..errors import EXIT_OK, OrchestratorError
from ..state import open_store
from ..state.base import StateStore, format_utc
from ..validate import Spec, validate_file
from .output import emit, emit_json


def status_document(spec: Spec, store: StateStore) -> dict[str, Any]:
    """The stable `status --json` shape: {"pipeline", "run", "steps": {NAME: {"status", "outputs", ...}}}."""
    resources = store.resources()
    history = store.history(limit=50)
    latest: dict[str, Any] = {}
    for _, attempts in history:  # newest first: the first attempt found per step is its latest
        for attempt in attempts:
            latest.setdefault(attempt.step, attempt)
    steps: dict[str, Any] = {}
    for name in list(spec.graph.order) + [s for s in resources if s not in spec.pipeline.steps]:
        res = resources.get(name)
        attempt = latest.get(name)
        status = attempt.status if attempt else "pending"
        if name not in spec.pipeline.steps:
            status = "removed from spec"
        steps[name] = {
            "kind": res.kind if res else spec.kind(name),
            "status": status,
            "outputs": res.outputs if res else {},
            "metrics": res.metrics if res else {},
            "run": res.run_id if res else None,
            "error": attempt.error if attempt and attempt.status in ("failed", "interrupted") else None,
        }
    last = history[0][0].as_dict() if history else None
    return {"pipeline": spec.pipeline.name, "run": last, "steps": steps}


def live_figures(spec: Spec, store: StateStore, targets) -> dict[str, dict[str, Any]]:
    """What each recorded resource's target reports about it now (a live endpoint's workers and traffic)."""
    from .common import make_target

    found: dict[str, dict[str, Any]] = {}
    made: dict[str, Any] = {}
    for name, res in store.resources().items():
        target_name = res.target or spec.pipeline.target
        try:
            target = made.get(target_name) or made.setdefault(
                target_name, make_target(target_name, spec, targets, None)
            )
            figures = target.live(res.kind, res.outputs)
        except OrchestratorError:
            continue
        if figures:
            found[name] = figures
    for target in made.values():
        target.close()
    return found


def _live_line(figures: dict[str, Any]) -> str:
    if figures.get("needs_run"):  # a local service restored without its ${env:...} values
        return f"    {figures['needs_run']}"
    if "endpoint_status" in figures:  # what SageMaker reports of an endpoint (aws)
        parts = [str(figures["endpoint_status"])]
        if "instances" in figures:
            parts.append(f"instances {figures['instances']} (desired {figures['desired_instances']})")
        return "    live: " + ", ".join(parts)
    parts = [f"workers {figures['workers']}", f"{figures['requests']} requests", f"{figures['errors']} errors"]
    if figures.get("p50_ms") is not None:
        parts.append(f"p50 {figures['p50_ms']:g} ms, p99 {figures['p99_ms']:g} ms")
    since = f" since {format_utc(figures['since'])}" if figures.get("since") else ""
    return "    live: " + ", ".join(parts) + since


def status(args, targets) -> int:
    spec = validate_file(args.file, strict_env=False)
    store = open_store(spec.pipeline, spec.root, create=False)
    doc = status_document(spec, store)
    for name, figures in live_figures(spec, store, targets).items():
        if name in doc["steps"]:
            doc["steps"][name]["live"] = figures
    if args.json:
        emit_json(doc)
        return EXIT_OK
    run = doc["run"]
    if run is None:
        emit(f"Pipeline '{spec.pipeline.name}' has not run yet.\n  hint: python -m orchestrator run {args.file}")
        return EXIT_OK
    lines = [
        f"Pipeline '{spec.pipeline.name}': run {run['id']} {run['status']} ({format_utc(run['started_at'])}, "
        f"target {run['target']})"
    ]
    if run.get("error"):
        lines.append(f"  error: {run['error']}")
    for name, s in doc["steps"].items():
        out = ", ".join(f"{k}={v}" for k, v in s["outputs"].items())
        lines.append(f"  {name:<16} {s['status']:<12} {out}")
        if s.get("live"):
            lines.append(_live_line(s["live"]))
    emit("\n".join(lines))
    return EXIT_OK


def history(args, targets) -> int:
    spec = validate_file(args.file, strict_env=False)
    store = open_store(spec.pipeline, spec.root, create=False)
    items = []
    for run, attempts in store.history(limit=args.limit):
        items.append(
            {
                **run.as_dict(),
                "duration_s": _duration(run.started_at, run.finished_at),
                "steps": [
                    {
                        "step": a.step,
                        "kind": a.kind,
                        "action": a.action,
                        "status": a.status,
                        "duration_s": _duration(a.started_at, a.finished_at),
                        "metrics": a.metrics,
                        "message": a.message,
                        "error": a.error,
                        **_trials(a.details),
                    }
                    for a in attempts
                ],
            }
        )
    live = [m.as_dict() for m in store.live_models()]
    if args.json:
        emit_json({"pipeline": spec.pipeline.name, "runs": items, "live_models": live})
        return EXIT_OK
    if not items:
        emit(f"Pipeline '{spec.pipeline.name}' has no runs yet.")
        return EXIT_OK
    lines = []
    for r in items:
        lines.append(
            f"run {r['id']}  {r['status']:<11} {format_utc(r['started_at'])}  {_secs(r['duration_s'])}  target {r['target']}"
        )
        for a in r["steps"]:
            metrics = " ".join(f"{k}={v:g}" for k, v in a["metrics"].items()) if a["status"] == "succeeded" else ""
            lines.append(f"    {a['step']:<16} {a['status']:<11} {_secs(a['duration_s']):>8}  {metrics}".rstrip())
            lines.extend(_trial_lines(a))
    if live:
        lines.append("live models:")
        for m in live:
            until = format_utc(m["until"]) if m["until"] else "now"
            lines.append(f"    {m['step']:<16} run {m['run_id']}  {format_utc(m['since'])} .. {until}  {m['model']}")
    emit("\n".join(lines))
    return EXIT_OK


def _trials(details: dict[str, Any]) -> dict[str, Any]:
    """A tuning job's trials, as its step recorded them (a step with no trials shows none)."""
    trials = details.get("trials") if isinstance(details, dict) else None
    return {"trials": trials, "best_trial": details.get("best_trial")} if trials else {}


def _trial_lines(attempt: dict[str, Any]) -> list[str]:
    lines = []
    for t in attempt.get("trials") or ():
        metrics = " ".join(f"{k}={v:g}" for k, v in t.get("metrics", {}).items())
        tuned = " ".join(f"{k}={v}" for k, v in t.get("hyperparameters", {}).items())
        best = "  (best)" if t.get("job_name") == attempt.get("best_trial") else ""
        parts = [f"trial {t.get('job_name')}", t.get("status", "?"), metrics, tuned]
        lines.append("      " + "  ".join(p for p in parts if p) + best)
    return lines


def _duration(start: float | None, end: float | None) -> float | None:
    return round(end - start, 3) if start and end else None


def _secs(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else "-"
