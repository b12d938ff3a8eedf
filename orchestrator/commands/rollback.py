"""`rollback`: put the model an earlier run deployed back on a serving step, without retraining.

A one-op plan (the step replaced with run N's model) that the executor carries out
like any other, so it is recorded, checked and reported the same way.
"""

from __future__ import annotations

import sys

from ..errors import EXIT_FAILED, EXIT_OK, RunFailed
from ..plan import make_rollback_plan, render_text
from ..state import open_store
from .common import TargetClasses, command_line, deployed_target, load_spec, make_target, show_warnings
from .output import emit, emit_json


def rollback(args, targets: TargetClasses) -> int:
    from ..execute import execute
    from .console import ConsoleUI

    spec = load_spec(args.file, targets, args.target)
    ui = ConsoleUI()
    show_warnings(spec)
    store = open_store(spec.pipeline, spec.root)
    name = deployed_target(spec, store, args.target)
    command = command_line("rollback", args.file, "--step", args.step, "--to", str(args.to))
    with store.lock(command):
        store.mark_interrupted()
        target = make_target(name, spec, targets, ui)
        try:
            plan = make_rollback_plan(
                spec, name, store.resources(), store.live_models(args.step), args.step, args.to, target.billed
            )
            sys.stderr.write(render_text(plan))
            target.preflight({op.kind for op in plan.ops})
            execute(spec, plan, target, store, command, ui, events=ui)
        except RunFailed as exc:
            ui.error(f"rollback failed: {exc}")
            return EXIT_FAILED
        finally:
            target.close()
    live = store.live_models(args.step)[0]
    if args.json:
        emit_json(live.as_dict())
    else:
        emit(f"{args.step}: the model of run {args.to} is live again ({live.model}).")
    return EXIT_OK
