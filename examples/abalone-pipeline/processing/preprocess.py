"""Split the abalone data and make its features (a SageMaker Processing job, scikit-learn processor).

Reads the CSV files under /opt/ml/processing/input/raw (with a header), one-hot encodes
`sex` (M, F, I: fixed categories, so nothing has to be fitted and the endpoint's
callers can build the same row), keeps the seven measurements as they are, and writes
headerless CSVs with the label first, as SageMaker's tutorials do:

- output/train/train.csv, output/validation/validation.csv, output/test/test.csv
  (70 / 15 / 15 % of the shells, a seeded shuffle);
- output/batch/part-N.csv: the test shells' features alone, without the label, in a
  few objects: what a batch transform scores (one `<object>.out` each).
"""

import argparse
import csv
import random
from pathlib import Path

BASE = Path("/opt/ml/processing")
SEXES = ["M", "F", "I"]
MEASUREMENTS = ["length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight"]
LABEL = "rings"


def read_shells(folder: Path) -> list[dict]:
    shells = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as f:
            shells.extend(csv.DictReader(f))
    if not shells:
        raise SystemExit(f"no abalone found: expected CSV files with a header in {folder}")
    missing = [name for name in ["sex", *MEASUREMENTS, LABEL] if name not in shells[0]]
    if missing:
        raise SystemExit(f"the abalone CSV lacks columns: {', '.join(missing)}")
    return shells


def features(shell: dict) -> list[str]:
    """The model's input row: sex one-hot (M, F, I), then the measurements as written."""
    if shell["sex"] not in SEXES:
        raise SystemExit(f"unknown sex {shell['sex']!r}: expected one of {', '.join(SEXES)}")
    return [str(int(shell["sex"] == sex)) for sex in SEXES] + [shell[name] for name in MEASUREMENTS]


def write_rows(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-parts", type=int, default=3)
    args = parser.parse_args()

    shells = read_shells(BASE / "input" / "raw")
    random.Random(args.seed).shuffle(shells)
    n_train, n_validation = int(0.7 * len(shells)), int(0.15 * len(shells))
    splits = {
        "train": shells[:n_train],
        "validation": shells[n_train : n_train + n_validation],
        "test": shells[n_train + n_validation :],
    }
    for name, part in splits.items():
        write_rows(BASE / "output" / name / f"{name}.csv", [[s[LABEL], *features(s)] for s in part])
    test = splits["test"]
    size = -(-len(test) // args.batch_parts)
    for i in range(args.batch_parts):
        write_rows(BASE / "output" / "batch" / f"part-{i}.csv", [features(s) for s in test[i * size : (i + 1) * size]])
    print(" ".join(f"{name}={len(part)}" for name, part in splits.items()), f"batch_parts={args.batch_parts}")


if __name__ == "__main__":
    main()
