"""What the commands share: reading a spec with its target's rules, picking the target, planning."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, did_you_mean
from ..errors import UsageError
from ..spec.loader import Document
from ..spec.models import Pipeline
from ..targets import load_target
from ..targets.base import Reporter, Target
from ..validate import Spec, state_dir_of, validate_file

if TYPE_CHECKING:  # `validate` needs neither: plan_run imports the planner when it plans
    from ..plan import Plan
    from ..state.base import StateStore

TargetClasses = Mapping[str, Callable[..., Target]]  # tests pass fakes by name


def target_class(name: str, targets: TargetClasses) -> Callable[..., Target]:
    return targets.get(name) or load_target(name)


def load_spec(file: str, targets: TargetClasses, target: str | None = None, strict_env: bool = True) -> Spec:
    """The valid spec, checked also against the rules of the target it will run on
    (`target`, else the spec's own `target:`); warnings are kept on the spec."""

    def target_rules(pipeline: Pipeline, doc: Document, root: Path) -> list[Diagnostic]:
        cls = target_class(target or pipeline.target, targets)
        return cls(pipeline, root, state_dir_of(pipeline, root)).check(doc)

    return validate_file(file, strict_env=strict_env, target_checks=target_rules)


def show_warnings(spec: Spec) -> None:
    sys.stderr.write("".join(d.render() + "\n" for d in spec.warnings))


def check_force(spec: Spec, force: list[str]) -> set[str]:
    for name in force:
        if name not in spec.pipeline.steps:
            raise UsageError(
                f"--force {name}: no step named '{name}' in {spec.display}",
                did_you_mean(name, spec.pipeline.steps) or "steps: " + ", ".join(spec.pipeline.steps),
            )
    return set(force)


def make_target(name: str, spec: Spec, targets: TargetClasses, reporter: Reporter | None) -> Target:
    return target_class(name, targets)(spec.pipeline, spec.root, spec.state_dir, reporter)


def deployed_target(spec: Spec, store: StateStore, asked: str | None, follow_record: bool = False) -> str:
    """The target a command acts on: the one that made what is recorded, if anything is.

    One state records one world: running the same pipeline on another target would
    skip every step (its records say "up to date") or destroy on the wrong cloud.
    `follow_record` (destroy): without --target, act where the resources are.
    """
    recorded = {res.target for res in store.resources().values()} - {""}
    wanted = asked or (next(iter(recorded)) if follow_record and len(recorded) == 1 else spec.pipeline.target)
    if recorded and wanted not in recorded:
        where = ", ".join(sorted(recorded))
        raise UsageError(
            f"pipeline '{spec.pipeline.name}' is deployed on target {where}; this state cannot also track {wanted}",
            f"destroy it first (python -m orchestrator destroy {shlex.quote(spec.display)} --target {where}), "
            f"or give the {wanted} pipeline a state: folder of its own",
        )
    return wanted


def plan_run(
    spec: Spec,
    store: StateStore,
    target: Target,
    target_name: str,
    force: set[str],
    external: dict[str, str] | None,
    last_attempts: Mapping[str, Any],
) -> Plan:
    """The plan for `run` (and `plan`): recorded state, what is still alive, what the target bills."""
    from ..fingerprint import shared_digests
    from ..plan import make_plan

    resources = store.resources()
    if external is None:  # plan cannot list s3:// inputs: compare with what the last run listed
        external = {
            uri: digest
            for res in resources.values()
            for uri, digest in res.components.get("data", {}).items()
            if uri.startswith("s3://")
        }
    alive = {name: target.probe(res.kind, res.outputs) for name, res in resources.items()}
    known = target.known_outputs(
        [name for name in told_steps(spec) if name in spec.pipeline.steps],
        {name: res.outputs for name, res in resources.items()},
    )
    with shared_digests():
        return make_plan(
            spec,
            target_name,
            resources,
            store.last_run(),
            last_attempts,
            alive,
            force,
            external,
            tuple(target.plan_notes()),
            billed=target.billed,
            known=known,
        )


def told_steps(spec: Spec) -> list[str]:
    """Steps whose outputs others read before they run (a site's origin named by an API's CORS)."""
    from ..graph import told_refs

    return list(dict.fromkeys(r.step for r in told_refs(spec.doc.data["steps"], spec.graph.order)))


def confirm(question: str, refusal: str, command: str) -> bool:
    """Ask at a terminal; without one, refuse with `refusal` and show the command that confirms."""
    if not sys.stdin.isatty():
        raise UsageError(f"{refusal}; confirm with --yes", f"{command} --yes")
    return input(f"{question} Type 'yes': ").strip() == "yes"


def command_line(*parts: str) -> str:
    """`python -m orchestrator ...` with each part quoted for a shell."""
    return " ".join(["python -m orchestrator", *(shlex.quote(p) for p in parts)])
