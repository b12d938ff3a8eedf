"""Living with a deployed pipeline: rollback to an earlier model, a retrain schedule, stale locks."""

from __future__ import annotations

import shlex
import sys

from .commands import check_force, deployed_target, make_target
from .diagnostics import UsageError
from .exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .output import emit, emit_json
from .state import open_store
from .validate import validate_file


def cmd_rollback(args, targets) -> int:
    from .console import ConsoleUI
    from .execute import RunFailed
    from .rollback import rollback

    spec = validate_file(args.file)
    ui = ConsoleUI()
    store = open_store(spec.pipeline, spec.root)
    name = deployed_target(spec, store, args.target)
    command = f"python -m orchestrator rollback {shlex.quote(args.file)} --step {args.step} --to {args.to}"
    with store.lock(command):
        store.mark_interrupted()
        target = make_target(name, spec, targets, ui)
        try:
            live = rollback(spec, store, target, args.step, args.to, command, ui)
        except RunFailed as exc:
            ui.error(f"rollback failed: {exc}")
            return EXIT_FAILED
        finally:
            target.close()
    if args.json:
        emit_json(live.as_dict())
    else:
        emit(f"{args.step}: the model of run {args.to} is live again ({live.model}).")
    return EXIT_OK


def cmd_schedule(args, targets) -> int:
    from .scheduler import Scheduler

    spec = validate_file(args.file)
    if spec.pipeline.schedule is None:
        raise UsageError(f"{spec.display} has no schedule", "add schedule: {retrain: cron(0 3 * * ? *)}")
    check_force(spec, args.force)
    argv = ["run", args.file, "--quiet"] + [f"--force={s}" for s in args.force]
    return Scheduler(spec.pipeline.schedule.retrain, argv, max_runs=args.max_runs).serve()


def cmd_unlock(args, targets) -> int:
    from .state.base import describe_holder

    spec = validate_file(args.file, strict_env=False)
    store = open_store(spec.pipeline, spec.root, create=False)
    holder = store.lock_holder()
    if holder is None:
        if args.json:
            emit_json({"locked": False, "removed": None})
        else:
            emit(f"Pipeline '{spec.pipeline.name}' is not locked.")
        return EXIT_OK
    if holder.get("alive"):
        raise UsageError(
            f"the lock is held by a live process: {describe_holder(holder)}",
            "stop that run instead; its lock goes with it",
        )
    if (
        sys.stdin.isatty()
        and not args.yes
        and (input(f"Remove the lock of {describe_holder(holder)}? Type 'yes': ").strip() != "yes")
    ):
        return EXIT_USAGE
    store.break_lock()
    if args.json:
        emit_json({"locked": False, "removed": holder})
    else:
        emit(f"Removed the lock of {describe_holder(holder)}.")
    return EXIT_OK
