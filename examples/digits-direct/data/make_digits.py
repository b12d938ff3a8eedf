"""Write the digits CSVs from the 8x8 handwritten digits bundled with scikit-learn (no download).

Each row is the label (0-9) then 64 pixel intensities (0-16), no header. A fixed, stratified
fifth of the images goes to `digits.test.csv`, which training never sees: the README's curl
example and the tests send those images to the API.

    python data/make_digits.py            # rewrites data/digits.train.csv and data/digits.test.csv
"""

from __future__ import annotations

import csv
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def write(path: Path, images, labels) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        for label, pixels in zip(labels, images, strict=True):
            writer.writerow([int(label), *(int(value) for value in pixels)])
    print(f"wrote {path} ({len(labels)} images)")


def main() -> None:
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=42, stratify=digits.target
    )
    here = Path(__file__).parent
    write(here / "digits.train.csv", x_train, y_train)
    write(here / "digits.test.csv", x_test, y_test)


if __name__ == "__main__":
    main()
