"""`run`: the whole flow in one function — load, validate, graph, plan, execute, record."""

from __future__ import annotations

import shlex
import sys
from typing import Any

from ..errors import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, RunFailed
from ..spec.kinds import KINDS
from ..state import open_store
from ..validate import Spec
from .common import TargetClasses, check_force, deployed_target, load_spec, make_target, plan_run, show_warnings
from .output import emit, emit_json
from .reports import status_document


def run(args, targets: TargetClasses) -> int:
    from ..execute import execute
    from ..plan import render_text
    from .console import ConsoleUI

    spec = load_spec(args.file, targets, args.target)  # load -> validate -> graph, with the target's rules
    force = check_force(spec, args.force)
    ui = ConsoleUI(quiet=args.quiet)
    show_warnings(spec)
    store = open_store(spec.pipeline, spec.root)
    with store.lock("python -m orchestrator " + shlex.join(args.argv)):
        for run_id in store.mark_interrupted():
            ui.warn(f"run {run_id} was killed before it finished; resuming where it stopped")
        name = deployed_target(spec, store, args.target)
        target = make_target(name, spec, targets, ui)
        try:
            listings = target.data_digests(s3_inputs(spec))
            plan = plan_run(spec, store, target, name, force, listings, store.last_attempts())  # -> plan
            sys.stderr.write(render_text(plan))
            if not plan.has_changes:
                _report(args, spec, store, {name: r.outputs for name, r in store.resources().items()})
                return EXIT_OK
            target.preflight({op.kind for op in plan.ops if op.changes})
            outcome = execute(  # -> execute -> record
                spec, plan, target, store, resume_command(args), ui, ui, parallelism=args.parallelism
            )
        except RunFailed as exc:
            for failure in (exc, *exc.others):
                ui.error(f"run {failure.run_id} failed at step '{failure.step}': {failure}")
                if failure.detail:
                    ui.console.print(failure.detail, markup=False, highlight=False)
            ui.console.print(f"Fix the problem, then resume with:\n  {resume_command(args)}", markup=False)
            if args.json:
                emit_json(status_document(spec, store))
            return EXIT_FAILED
        finally:
            target.close()
    _report(args, spec, store, outcome.outputs)
    for step, why in outcome.rejected.items():
        ui.warn(f"{step}: the new model was not promoted ({why}); the live model keeps serving")
    return EXIT_CHANGES if outcome.rejected and args.fail_on_reject else EXIT_OK


def s3_inputs(spec: Spec) -> list[str]:
    """The s3:// data the steps read: the target lists them when a run starts."""
    return [
        path.value
        for step in spec.pipeline.steps.values()
        for path in KINDS[step.type].paths(step)
        if path.role == "data" and path.value.startswith("s3://")
    ]


def resume_command(args) -> str:
    parts = ["python -m orchestrator run", shlex.quote(args.file)]
    if getattr(args, "target", None):
        parts.append(f"--target {args.target}")
    return " ".join(parts)


def _report(args, spec: Spec, store, outputs: dict[str, Any]) -> None:
    if args.json:
        emit_json(status_document(spec, store))
        return
    lines = [f"  {step}: {out['url']}" for step, out in outputs.items() if isinstance(out, dict) and out.get("url")]
    if lines:
        emit("URLs:\n" + "\n".join(lines))
