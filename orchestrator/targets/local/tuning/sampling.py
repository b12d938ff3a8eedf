"""Which hyperparameters each trial gets: Random (seeded) and Grid, as SageMaker's strategies pick them.

Random draws each range independently: uniformly on a Linear scale, uniformly in log space
on a Logarithmic one (ReverseLogarithmic: in log space of 1 - x); Auto is Linear here.
Integers are drawn on the same scale and rounded. Grid walks every combination of the
categorical values in order, up to max_jobs. The same seed gives the same trials.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

from ....spec.tuning import Categories, NumberRange, TuningStep

EMULATED = ("Random", "Grid")


def strategy_run(step: TuningStep) -> str:
    """The strategy the local target runs: its own for Random and Grid, Random for the others."""
    return step.strategy if step.strategy in EMULATED else "Random"


def trials(step: TuningStep) -> list[dict[str, Any]]:
    """Each trial's tuned hyperparameters, in order."""
    if strategy_run(step) == "Grid":
        names = list(step.ranges)
        values = [step.ranges[n].values for n in names]  # type: ignore[union-attr]  (Grid: categorical only)
        combos = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
        return combos[: step.max_jobs] if step.max_jobs else combos
    rng = random.Random(step.seed)
    return [{name: draw(r, rng) for name, r in step.ranges.items()} for _ in range(step.max_jobs or 1)]


def draw(r: NumberRange | Categories, rng: random.Random) -> Any:
    if isinstance(r, Categories):
        return rng.choice(r.values)
    low, high = float(r.min), float(r.max)
    if r.scaling == "Logarithmic":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    elif r.scaling == "ReverseLogarithmic":
        value = 1 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low)))
    else:
        value = rng.uniform(low, high)
    if r.integer:
        return min(max(round(value), math.ceil(low)), math.floor(high))
    return min(max(value, low), high)
