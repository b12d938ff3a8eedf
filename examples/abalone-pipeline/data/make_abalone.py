"""Write `abalone.csv`: synthetic abalone shaped like the UCI data set the SageMaker Pipelines tutorial uses.

Columns: sex (M, F or I for infant), length, diameter, height (mm / 200, as in the UCI
data), whole_weight, shucked_weight, viscera_weight, shell_weight (grams / 200), rings
(the age in years is rings + 1.5). Shells grow with age and level off, weights go with
the cube of size, and infants are young and small; the ring count is drawn around what
the shell weight and sex suggest, with the spread real ring counts have. The seed is
fixed, so running this again writes the same file; the tests draw unseen shells with
another seed.

    python data/make_abalone.py           # rewrites data/abalone.csv
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

FIELDS = ["sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight"]
LABEL = "rings"


def one_shell(rng: random.Random) -> dict:
    sex = rng.choices(["M", "F", "I"], weights=[37, 31, 32])[0]
    rings = max(1, min(29, round(rng.gauss(7.5 if sex == "I" else 11.0, 2.2 if sex == "I" else 3.0))))
    growth = 1 - math.exp(-rings / 6.0)  # shells grow fast when young, then level off
    length = max(0.08, rng.gauss(0.72 * growth, 0.035))
    diameter = max(0.06, length * rng.gauss(0.79, 0.025))
    height = max(0.02, length * rng.gauss(0.27, 0.025))
    whole = max(0.01, 2.6 * length**3 * rng.gauss(1.0, 0.08))
    return {
        "sex": sex,
        "length": round(length, 3),
        "diameter": round(diameter, 3),
        "height": round(height, 3),
        "whole_weight": round(whole, 4),
        "shucked_weight": round(whole * rng.gauss(0.43, 0.04), 4),
        "viscera_weight": round(whole * rng.gauss(0.22, 0.02), 4),
        "shell_weight": round(whole * rng.gauss(0.29, 0.03) * (1 + 0.02 * (rings - 10)), 4),
        LABEL: rings,
    }


def make_abalone(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [one_shell(rng) for _ in range(count)]


def main() -> None:
    out = Path(__file__).with_name("abalone.csv")
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*FIELDS, LABEL])
        writer.writeheader()
        writer.writerows(make_abalone(count=600, seed=1984))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
