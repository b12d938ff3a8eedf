"""`destroy`: remove everything the pipeline deployed, on the target that deployed it.

It takes the pipeline's lock like a run does, even to find that nothing is deployed:
a first run still creating things has recorded nothing yet, but it holds the lock.
So destroy never races a run, and the plan it shows before asking is the plan it executes.
"""

from __future__ import annotations

import sys

from ..errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, RunFailed
from ..plan import RENDERERS, make_destroy_plan
from ..state import open_store
from ..validate import validate_file
from .common import TargetClasses, command_line, confirm, deployed_target, make_target
from .output import emit, emit_json
from .reports import status_document


def destroy(args, targets: TargetClasses) -> int:
    from ..execute import execute
    from .console import ConsoleUI

    spec = validate_file(args.file, strict_env=False)  # removing what exists needs no deploy-time secrets
    store = open_store(spec.pipeline, spec.root, create=False)
    nothing = f"Nothing to destroy: pipeline '{spec.pipeline.name}' has nothing deployed."
    if store.never_used():
        emit(nothing)  # and nothing is created by asking
        return EXIT_OK
    command = command_line("destroy", args.file)
    with store.lock(command):  # a run still deploying holds it: destroy refuses, naming that run
        store.mark_interrupted()
        name = deployed_target(spec, store, args.target, follow_record=True)
        plan = make_destroy_plan(spec, name, store.resources(), store.last_attempts())
        if not plan.ops:
            emit(nothing)
            return EXIT_OK
        if not args.yes:
            refusal = "destroy removes everything the pipeline deployed"
            if sys.stdin.isatty():
                sys.stderr.write(RENDERERS["text"](plan))
            if not confirm("Destroy all of this?", refusal, command):
                sys.stderr.write("Nothing destroyed.\n")
                return EXIT_USAGE
        ui = ConsoleUI()
        target = make_target(name, spec, targets, ui)
        try:
            execute(spec, plan, target, store, command, ui, ui, parallelism=args.parallelism)
        except RunFailed as exc:
            for failure in (exc, *exc.others):
                ui.error(f"destroy failed at step '{failure.step}': {failure}")
            return EXIT_FAILED
        finally:
            target.close()
    if args.json:
        emit_json(status_document(spec, store))
    else:
        n = len(plan.ops)
        emit(f"Destroyed {n} step{'s' if n != 1 else ''} of pipeline '{spec.pipeline.name}'.")
    return EXIT_OK
