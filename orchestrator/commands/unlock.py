"""`unlock`: remove a lock left in S3 state by a run that died (a local lock dies with its process).

A lock whose holder lives on this host, or whose lease its run renewed lately, belongs
to a run still going: removing it would let a second run write beside the first, so
that takes --force (and the first run then stops at its next write).
"""

from __future__ import annotations

import sys
import time

from ..errors import EXIT_OK, EXIT_USAGE, UsageError
from ..state import open_store
from ..state.base import describe_holder
from ..validate import validate_file
from .common import command_line
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
    live = _why_live(holder)
    if live and (holder.get("lease_fresh") is None or not args.force):
        if holder.get("lease_fresh") is None:  # a lock the kernel holds: only its process ends it
            raise UsageError(
                f"the lock is held by a live process: {describe_holder(holder)}",
                "stop that run instead; its lock goes with it",
            )
        raise UsageError(
            f"the lock is held by a run that is still going: {describe_holder(holder)}; {live}",
            "stop that run instead; if you know it is gone, "
            f"remove the lock anyway with {command_line('unlock', args.file)} --force",
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


def _why_live(holder: dict) -> str | None:
    """Why the holder looks alive, or None: it lives on this host, or its lease is fresh (and not known dead)."""
    if holder.get("alive"):
        return "its process is alive on this host"
    if holder.get("alive") is None and holder.get("lease_fresh"):
        ago = time.time() - float(holder.get("renewed") or 0)
        return f"it renewed its lease {max(ago, 0):.0f} s ago"
    return None
