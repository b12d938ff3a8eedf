"""What changed between two fingerprints of a step, as typed reasons, most telling first."""

from __future__ import annotations

import json
from typing import Any

from ..fingerprint import Fingerprint
from .ops import Cause, Reason

SHOWN = 3  # names listed before "and N more"


def describe_changes(old: Fingerprint, new: Fingerprint, gates: tuple[str, ...] = ()) -> list[Reason]:
    """`gates`: the kind's top-level keys that only decide promotions, reported as their own cause."""
    reasons: list[Reason] = []
    for cause, a, b in ((Cause.CODE_CHANGED, old.code, new.code), (Cause.DATA_CHANGED, old.data, new.data)):
        changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if changed:
            reasons.append(Reason(cause, (_shown(changed),)))
    keys = _diff_paths(old.config, new.config, "")
    gate_keys = [key for key in keys if key.split(".", 1)[0] in gates]
    other = [key for key in keys if key not in gate_keys]
    if other:
        reasons.append(Reason(Cause.CONFIG_CHANGED, (_shown(other),)))
    if gate_keys:
        reasons.append(Reason(Cause.GATE_CHANGED, (_shown(gate_keys),)))
    ups = sorted(k for k in set(old.upstream) | set(new.upstream) if old.upstream.get(k) != new.upstream.get(k))
    if ups:
        reasons.append(Reason(Cause.UPSTREAM_CHANGED, (", ".join(ups),)))
    if not reasons and "${env:" in json.dumps(new.config):
        return [Reason(Cause.ENV_CHANGED)]
    return reasons or [Reason(Cause.FINGERPRINT_CHANGED)]


def _shown(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def _diff_paths(a: Any, b: Any, prefix: str) -> list[str]:
    """Dotted paths where two configs differ: `hyperparameters.C`, not just `hyperparameters`."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out.extend(_diff_paths(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [] if a == b else [prefix or "(step)"]
