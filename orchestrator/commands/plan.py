"""`plan`: what `run` would do and why, changing nothing."""

from __future__ import annotations

from ..errors import EXIT_CHANGES, EXIT_OK
from ..plan import RENDERERS
from ..state import open_store
from .common import TargetClasses, check_force, deployed_target, load_spec, make_target, plan_run, show_warnings
from .output import emit


def plan(args, targets: TargetClasses) -> int:
    spec = load_spec(args.file, targets, args.target)
    force = check_force(spec, args.force)
    store = open_store(spec.pipeline, spec.root, create=False)
    # Targets import nothing heavy until they act; their probes only read (aws answers "unknown").
    name = deployed_target(spec, store, args.target)
    show_warnings(spec)
    target = make_target(name, spec, targets, None)
    result = plan_run(spec, store, target, name, force, external=None, last_attempts=store.last_attempts())
    emit(RENDERERS[args.format](result))
    return EXIT_CHANGES if args.exit_code and result.has_changes else EXIT_OK
