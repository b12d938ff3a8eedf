"""`schedule`: run the spec's retrain schedule in the foreground, one run at a time."""

from __future__ import annotations

from ..errors import UsageError
from .common import TargetClasses, check_force, load_spec


def schedule(args, targets: TargetClasses) -> int:
    from .scheduler import Scheduler

    spec = load_spec(args.file, targets)
    if spec.pipeline.schedule is None:
        raise UsageError(f"{spec.display} has no schedule", "add schedule: {retrain: cron(0 3 * * ? *)}")
    check_force(spec, args.force)
    argv = ["run", args.file, "--quiet"] + [f"--force={s}" for s in args.force]
    return Scheduler(spec.pipeline.schedule.retrain, argv, max_runs=args.max_runs).serve()
