"""`unlock`: remove a lock left in S3 state by a run that died (a local lock dies with its process)."""

from __future__ import annotations

import sys

from ..errors import EXIT_OK, EXIT_USAGE, UsageError
from ..state import open_store
from ..state.base import describe_holder
from ..validate import validate_file
from .output import emit, emit_json


def unlock(args, targets) -> int:
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
    asked = sys.stdin.isatty() and not args.yes
    if asked and input(f"Remove the lock of {describe_holder(holder)}? Type 'yes': ").strip() != "yes":
        return EXIT_USAGE
    store.break_lock()
    if args.json:
        emit_json({"locked": False, "removed": holder})
    else:
        emit(f"Removed the lock of {describe_holder(holder)}.")
    return EXIT_OK
