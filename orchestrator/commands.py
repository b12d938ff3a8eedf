"""What each command does, in a few lines each: validate, plan, run, destroy.

`status`/`history` live in reports.py and `rollback`/`schedule`/`unlock` in
maintenance.py; the CLI finds every `cmd_*` here.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .diagnostics import DiagnosticError, UsageError, did_you_mean
from .exit_codes import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .output import emit, emit_json
from .plan import RENDERERS, Plan, make_destroy_plan, make_plan
from .reports import status_document
from .state import open_store
from .state.base import LockHeld, StateStore
from .validate import Spec, validate_file


@dataclass
class Explained:
    text: str
    code: int


def explain(exc: BaseException) -> Explained | None:
    """Known failures as a message and an exit code; None for bugs."""
    from .state.s3 import StateConflict
    from .state.sqlite import StateVersionError
    from .targets.base import TargetError

    if isinstance(exc, DiagnosticError):
        return Explained("".join(d.render() + "\n" for d in exc.diagnostics), EXIT_USAGE)
    if isinstance(exc, (UsageError, TargetError)):
        return Explained(f"error: {exc}\n" + (f"  hint: {exc.hint}\n" if exc.hint else ""), EXIT_USAGE)
    if isinstance(exc, LockHeld):
        return Explained(f"error: this pipeline is locked: {exc}\n  hint: {exc.hint}\n", EXIT_FAILED)
    if isinstance(exc, StateVersionError):
        return Explained(f"error: {exc}\n", EXIT_USAGE)
    if isinstance(exc, StateConflict):
        return Explained(f"error: {exc}\n", EXIT_FAILED)
    return None


# -- shared -------------------------------------------------------------------------


def check_force(spec: Spec, force: list[str]) -> set[str]:
    for name in force:
        if name not in spec.pipeline.steps:
            raise UsageError(
                f"--force {name}: no step named '{name}' in {spec.display}",
                did_you_mean(name, spec.pipeline.steps) or "steps: " + ", ".join(spec.pipeline.steps),
            )
    return set(force)


def make_target(name: str, spec: Spec, targets: dict[str, Callable], reporter):
    from .targets import load_target

    cls = targets.get(name) or load_target(name)
    return cls(spec.pipeline, spec.root, spec.state_dir, reporter)


def deployed_target(spec: Spec, store: StateStore, asked: str | None, follow_record: bool = False) -> str:
    """The target a command acts on: the one that made what is recorded, if anything is.

    One state records one world: running the same pipeline on another target would
    skip every step (its records say "up to date") or destroy on the wrong cloud.
    `follow_record` (destroy): without --target, act where the resources are.
    """
    recorded = {res.details.get("target") for res in store.resources().values()} - {None}
    wanted = asked or (next(iter(recorded)) if follow_record and len(recorded) == 1 else spec.pipeline.target)
    if recorded and wanted not in recorded:
        where = ", ".join(sorted(recorded))
        raise UsageError(
            f"pipeline '{spec.pipeline.name}' is deployed on target {where}; this state cannot also track {wanted}",
            f"destroy it first (python -m orchestrator destroy {shlex.quote(spec.display)} --target {where}), "
            f"or give the {wanted} pipeline a state: folder of its own",
        )
    return wanted


def last_attempts(store: StateStore, settled: bool) -> dict[str, Any]:
    """Each step's attempt in the last run; with `settled`, a 'running' one whose run holds
    no lock any more is shown as what it is: interrupted."""
    last = store.last_run()
    attempts = {a.step: a for a in store.step_runs(last.id)} if last else {}
    if settled and last and last.status == "running" and store.lock_holder() is None:
        for attempt in attempts.values():
            if attempt.status == "running":
                attempt.status = "interrupted"
    return attempts


def _plan(
    spec: Spec,
    store: StateStore,
    target,
    target_name: str,
    force: set[str],
    external: dict[str, str] | None,
    settled: bool,
) -> Plan:
    resources = store.resources()
    if external is None:  # plan cannot list s3:// inputs: compare with what the last run listed
        external = {
            uri: digest
            for res in resources.values()
            for uri, digest in res.components.get("data", {}).items()
            if uri.startswith("s3://")
        }
    alive = {name: target.probe(res.kind, res.outputs) for name, res in resources.items()}
    return make_plan(
        spec,
        target_name,
        resources,
        store.last_run(),
        last_attempts(store, settled),
        alive,
        force,
        external,
        tuple(target.plan_notes()),
    )


def _resume_command(args) -> str:
    parts = ["python -m orchestrator run", shlex.quote(args.file)]
    if getattr(args, "target", None):
        parts.append(f"--target {args.target}")
    return " ".join(parts)


def _print_urls(outputs: dict[str, dict[str, Any]]) -> None:
    lines = [f"  {step}: {out['url']}" for step, out in outputs.items() if isinstance(out, dict) and out.get("url")]
    if lines:
        emit("URLs:\n" + "\n".join(lines))


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


def cmd_plan(args, targets) -> int:
    spec = validate_file(args.file)
    force = check_force(spec, args.force)
    store = open_store(spec.pipeline, spec.root, create=False)
    # Targets import nothing heavy until they act; their probes only read (aws answers "unknown").
    name = deployed_target(spec, store, args.target)
    target = make_target(name, spec, targets, None)
    plan = _plan(spec, store, target, name, force, external=None, settled=True)
    emit(RENDERERS[args.format](plan))
    return EXIT_CHANGES if args.exit_code and plan.has_changes else EXIT_OK


# -- run / destroy -----------------------------------------------------------------


def cmd_run(args, targets) -> int:
    from .console import ConsoleUI
    from .execute import RunFailed, execute
    from .plan import render_text

    spec = validate_file(args.file)
    force = check_force(spec, args.force)
    ui = ConsoleUI(quiet=args.quiet)
    store = open_store(spec.pipeline, spec.root)
    with store.lock("python -m orchestrator " + shlex.join(args.argv)):
        for run_id in store.mark_interrupted():
            ui.warn(f"run {run_id} was killed before it finished; resuming where it stopped")
        name = deployed_target(spec, store, args.target)
        target = make_target(name, spec, targets, ui)
        try:
            plan = _plan(spec, store, target, name, force, target.data_digests(_s3_inputs(spec)), settled=False)
            sys.stderr.write(render_text(plan))
            if not plan.has_changes:
                if args.json:
                    emit_json(status_document(spec, store))
                else:
                    _print_urls({name: r.outputs for name, r in store.resources().items()})
                return EXIT_OK
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
    return [
        v
        for s in spec.pipeline.steps.values()
        for v in (getattr(s, "inputs", None) or {}).values()
        if v.startswith("s3://")
    ]


def cmd_destroy(args, targets) -> int:
    from .console import ConsoleUI
    from .execute import RunFailed, execute

    spec = validate_file(args.file, strict_env=False)  # removing what exists needs no deploy-time secrets
    store = open_store(spec.pipeline, spec.root, create=False)
    name = deployed_target(spec, store, args.target, follow_record=True)
    if not make_destroy_plan(spec, name, store.resources(), last_attempts(store, settled=True)).ops:
        emit(f"Nothing to destroy: pipeline '{spec.pipeline.name}' has nothing deployed.")
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "destroy removes everything the pipeline deployed; confirm with --yes",
                f"python -m orchestrator destroy {shlex.quote(args.file)} --yes",
            )
        sys.stderr.write(RENDERERS["text"](make_destroy_plan(spec, name, store.resources())))
        if input("Destroy all of this? Type 'yes': ").strip() != "yes":
            sys.stderr.write("Nothing destroyed.\n")
            return EXIT_USAGE
    ui = ConsoleUI()
    command = f"python -m orchestrator destroy {shlex.quote(args.file)}"
    with store.lock(command):
        store.mark_interrupted()
        plan = make_destroy_plan(spec, name, store.resources(), last_attempts(store, settled=False))
        target = make_target(name, spec, targets, ui)
        try:
            execute(spec, plan, target, store, command, ui, events=ui)
        except RunFailed as exc:
            ui.error(f"destroy failed at step '{exc.step}': {exc}")
            return EXIT_FAILED
        finally:
            target.close()
    if args.json:
        emit_json(status_document(spec, store))
    else:
        n = len(plan.ops)
        emit(f"Destroyed {n} step{'s' if n != 1 else ''} of pipeline '{spec.pipeline.name}'.")
    return EXIT_OK


def cmd_schema(args, targets) -> int:
    from .spec.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK
