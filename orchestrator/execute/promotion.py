"""The promotion gate: a new model replaces the live one only if its metric says so."""

from __future__ import annotations

from dataclasses import dataclass

from ..spec.models import PromoteWhen


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    new_value: float | None
    live_value: float | None


def decide(gate: PromoteWhen, new_metrics: dict[str, float], live_metrics: dict[str, float] | None) -> Decision:
    """Compare the new model's metric with the floor/ceiling and with the live model's."""
    name = gate.metric
    new = new_metrics.get(name)
    live = (live_metrics or {}).get(name)
    if new is None:
        return Decision(False, f"the new model has no '{name}' metric (its training printed none)", None, live)
    if gate.at_least is not None and new < gate.at_least:
        return Decision(False, f"{name} {new:g} is below the floor {gate.at_least:g}", new, live)
    if gate.at_most is not None and new > gate.at_most:
        return Decision(False, f"{name} {new:g} is above the ceiling {gate.at_most:g}", new, live)
    if gate.beats_live and live is not None:
        lower_is_better = gate.at_most is not None and gate.at_least is None
        better = new < live - gate.margin if lower_is_better else new > live + gate.margin
        if not better:
            need = f" by more than {gate.margin:g}" if gate.margin else ""
            return Decision(False, f"{name} {new:g} does not beat the live model's {live:g}{need}", new, live)
        return Decision(True, f"{name} {new:g} beats the live model's {live:g}", new, live)
    if gate.beats_live:
        return Decision(True, f"{name} {new:g} passes; no live model to beat", new, live)
    return Decision(True, f"{name} {new:g} passes the gate", new, live)
