"""What each command does, in a few lines each: validate, plan, run, status, history, destroy."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .diagnostics import DiagnosticError, UsageError
from .plan import DELETE, RENDERERS, Op, Plan, make_plan
from .state import open_store
from .state.base import LockHeld, StateStore
from .validate import Spec, validate_file
from .reports import cmd_history, cmd_status, status_document  # noqa: F401  (dispatched by name)

from .output import emit, emit_json
from .exit_codes import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, EXIT_USAGE


@dataclass
class Explained:
    text: str
    code: int


def explain(exc: BaseException) -> Explained | None:
    """Known failures as a message and an exit code; None for bugs."""
    from .state.sqlite import StateVersionError
    from .targets.base import TargetError

    if isinstance(exc, DiagnosticError):
        return Explained("".join(d.render() + "\n" for d in exc.diagnostics), EXIT_USAGE)
    if isinstance(exc, UsageError):
        return Explained(f"error: {exc}\n" + (f"  hint: {exc.hint}\n" if exc.hint else ""), EXIT_USAGE)
    if isinstance(exc, TargetError):
        return Explained(f"error: {exc}\n" + (f"  hint: {exc.hint}\n" if exc.hint else ""), EXIT_USAGE)
    if isinstance(exc, LockHeld):
        return Explained(f"error: this pipeline is locked: {exc}\n"
                         "  hint: wait for that run to finish; the lock is released when it exits\n", EXIT_FAILED)
    if isinstance(exc, StateVersionError):
        return Explained(f"error: {exc}\n", EXIT_USAGE)
    return None



# -- validate / plan ----------------------------------------------------------------


def cmd_validate(args, targets) -> int:
    try:
        spec = validate_file(args.file)
    except DiagnosticError as exc:
        if args.json:
            emit_json({"valid": False, "problems": [d.as_dict() for d in exc.diagnostics]})
        sys.stderr.write("".join(d.render() + "\n" for d in exc.diagnostics))
        n = len(exc.diagnostics)
        sys.stderr.write(f"{n} problem{'s' if n != 1 else ''} found in {args.file}\n")
        return EXIT_USAGE
    if args.json:
        emit_json({"valid": True, "pipeline": spec.pipeline.name, "steps": list(spec.graph.order), "problems": []})
    else:
        emit(f"{args.file}: valid ({len(spec.graph.order)} steps: {' -> '.join(spec.graph.order)})")
    return EXIT_OK


def _target_name(args, spec: Spec) -> str:
    return getattr(args, "target", None) or spec.pipeline.target


def _check_force(spec: Spec, force: list[str]) -> set[str]:
    from .diagnostics import did_you_mean

    for name in force:
        if name not in spec.pipeline.steps:
            raise UsageError(f"--force {name}: no step named '{name}' in {spec.display}",
                             did_you_mean(name, spec.pipeline.steps) or "steps: " + ", ".join(spec.pipeline.steps))
    return set(force)


def _make_target(name: str, spec: Spec, targets: dict[str, Callable], reporter):
    from .targets import load_target

    cls = targets.get(name) or load_target(name)
    return cls(spec.pipeline, spec.root, spec.state_dir, reporter)


def _plan(spec: Spec, store: StateStore, target, target_name: str, force: set[str],
          external: dict[str, str] | None = None, notes: tuple[str, ...] = ()) -> Plan:
    resources = store.resources()
    last = store.last_run()
    attempts = {a.step: a for a in store.step_runs(last.id)} if last else {}
    alive = {name: target.probe(res.kind, res.outputs) for name, res in resources.items()} if target else {}
    return make_plan(spec, target_name, resources, last, attempts, alive, force, external, notes)


def cmd_plan(args, targets) -> int:
    spec = validate_file(args.file)
    force = _check_force(spec, args.force)
    name = _target_name(args, spec)
    store = open_store(spec.pipeline, spec.root, create=False)
    # Targets import nothing heavy until they act; probes only read (aws answers "unknown").
    probe_target = _make_target(name, spec, targets, None)
    notes = ()
    if name == "aws" and any(v.startswith("s3://") for s in spec.pipeline.steps.values()
                             for v in (getattr(s, "inputs", None) or {}).values()):
        notes = ("s3:// inputs are compared by their listing when `run` starts, not in plan",)
    plan = _plan(spec, store, probe_target, name, force, notes=notes)
    emit(RENDERERS[args.format](plan))
    return EXIT_CHANGES if args.exit_code and plan.has_changes else EXIT_OK


# -- run / destroy -----------------------------------------------------------------


def _resume_command(args) -> str:
    parts = ["python -m orchestrator run", _quote(args.file)]
    if getattr(args, "target", None):
        parts.append(f"--target {args.target}")
    return " ".join(parts)


def _quote(text: str) -> str:
    return shlex.quote(text)


def cmd_run(args, targets) -> int:
    from .console import ConsoleUI
    from .execute import RunFailed, execute
    from .plan import render_text

    spec = validate_file(args.file)
    force = _check_force(spec, args.force)
    name = _target_name(args, spec)
    ui = ConsoleUI(quiet=args.quiet)
    store = open_store(spec.pipeline, spec.root)
    command = "python -m orchestrator " + shlex.join(args.argv)
    with store.lock(command):
        interrupted = store.mark_interrupted()
        for run_id in interrupted:
            ui.warn(f"run {run_id} was killed before it finished; resuming where it stopped")
        target = _make_target(name, spec, targets, ui)
        try:
            external = target.data_digests(_s3_inputs(spec)) if hasattr(target, "data_digests") else None
            plan = _plan(spec, store, target, name, force, external)
            sys.stderr.write(render_text(plan))
            if not plan.has_changes:
                return _finish_noop(args, spec, store)
            target.preflight({op.kind for op in plan.ops if op.changes})
            try:
                outcome = execute(spec, plan, target, store, _resume_command(args), ui, events=ui)
            except RunFailed as exc:
                ui.error(f"run {exc.run_id} failed at step '{exc.step}': {exc}")
                if exc.detail:
                    ui.console.print(exc.detail, markup=False, highlight=False)
                ui.console.print(f"Fix the problem, then resume with:\n  {_resume_command(args)}", markup=False)
                if args.json:
                    emit_json(status_document(spec, store))
                return EXIT_FAILED
        finally:
            target.close()
    if args.json:
        emit_json(status_document(spec, store))
    else:
        _print_urls(outcome.outputs)
    for step, why in outcome.rejected.items():
        ui.warn(f"{step}: the new model was not promoted ({why}); the live model keeps serving")
    return EXIT_CHANGES if outcome.rejected and args.fail_on_reject else EXIT_OK


def _s3_inputs(spec: Spec) -> list[str]:
    return [v for s in spec.pipeline.steps.values() for v in (getattr(s, "inputs", None) or {}).values()
            if v.startswith("s3://")]


def _finish_noop(args, spec: Spec, store: StateStore) -> int:
    if args.json:
        emit_json(status_document(spec, store))
    else:
        _print_urls({name: r.outputs for name, r in store.resources().items()})
    return EXIT_OK


def _print_urls(outputs: dict[str, dict[str, Any]]) -> None:
    lines = [f"  {step}: {out['url']}" for step, out in outputs.items() if isinstance(out, dict) and out.get("url")]
    if lines:
        emit("URLs:\n" + "\n".join(lines))


def cmd_destroy(args, targets) -> int:
    from .console import ConsoleUI
    from .execute import RunFailed, execute

    spec = validate_file(args.file)
    name = _target_name(args, spec)
    store = open_store(spec.pipeline, spec.root, create=False)
    resources = store.resources()
    if not resources:
        emit(f"Nothing to destroy: pipeline '{spec.pipeline.name}' has nothing deployed.")
        return EXIT_OK
    order = {"website": 0, "api": 1, "endpoint": 2, "training": 3}
    ops = tuple(Op(r.step, r.kind, DELETE, ("destroy requested",))
                for r in sorted(resources.values(), key=lambda r: (order.get(r.kind, 9), r.step)))
    plan = Plan(spec.pipeline.name, name, spec.pipeline.state, ops)
    if sys.stdin.isatty() and not args.yes:
        sys.stderr.write(RENDERERS["text"](plan))
        if input("Destroy all of this? Type 'yes': ").strip() != "yes":
            sys.stderr.write("Nothing destroyed.\n")
            return EXIT_USAGE
    ui = ConsoleUI()
    with store.lock(f"python -m orchestrator destroy {args.file}"):
        store.mark_interrupted()
        target = _make_target(name, spec, targets, ui)
        try:
            execute(spec, plan, target, store, f"python -m orchestrator destroy {_quote(args.file)}", ui, events=ui)
        except RunFailed as exc:
            ui.error(f"destroy failed at step '{exc.step}': {exc}")
            return EXIT_FAILED
        finally:
            target.close()
    if args.json:
        emit_json(status_document(spec, store))
    else:
        emit(f"Destroyed {len(ops)} step{'s' if len(ops) != 1 else ''} of pipeline '{spec.pipeline.name}'.")
    return EXIT_OK


def cmd_rollback(args, targets) -> int:
    from .console import ConsoleUI
    from .execute import RunFailed
    from .rollback import rollback

    spec = validate_file(args.file)
    name = _target_name(args, spec)
    ui = ConsoleUI()
    store = open_store(spec.pipeline, spec.root)
    command = f"python -m orchestrator rollback {_quote(args.file)} --step {args.step} --to {args.to}"
    with store.lock(command):
        store.mark_interrupted()
        target = _make_target(name, spec, targets, ui)
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
    _check_force(spec, args.force)
    argv = ["run", args.file, "--quiet"] + [f"--force={s}" for s in args.force]
    return Scheduler(spec.pipeline.schedule.retrain, argv, max_runs=args.max_runs).serve()


def cmd_unlock(args, targets) -> int:
    from .state.base import describe_holder

    spec = validate_file(args.file)
    store = open_store(spec.pipeline, spec.root, create=False)
    holder = store.lock_holder()
    if holder is None:
        if args.json:
            emit_json({"locked": False, "removed": None})
        else:
            emit(f"Pipeline '{spec.pipeline.name}' is not locked.")
        return EXIT_OK
    if holder.get("alive"):
        raise UsageError(f"the lock is held by a live process: {describe_holder(holder)}",
                         "stop that run instead; its lock goes with it")
    if sys.stdin.isatty() and not args.yes:
        if input(f"Remove the lock of {describe_holder(holder)}? Type 'yes': ").strip() != "yes":
            return EXIT_USAGE
    store.break_lock()
    if args.json:
        emit_json({"locked": False, "removed": holder})
    else:
        emit(f"Removed the lock of {describe_holder(holder)}.")
    return EXIT_OK


def cmd_schema(args, targets) -> int:
    from .spec.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK
