"""Write the mysfits questionnaire data: five answers -> the mysfit that person adopted.

Every mysfit has a typical profile of answers to five questions, each an integer:

    1. how adventurous are you (1-5)        4. favourite time of day (1 morning .. 4 night)
    2. how social are you (1-5)             5. how much mischief do you enjoy (1-5)
    3. home you prefer (1 sea, 2 forest, 3 city, 4 mountains)

A person who adopted a mysfit answered like its profile, each answer shifted by one now
and then. Rows are CSV, the label (mysfit id, 1-12) first, no header: the format the
k-NN built-in algorithm trains on. The seed is fixed, so running this again writes the
same files; the tests draw unseen people with another seed.

    python data/make_mysfits.py           # rewrites data/mysfits.train.csv and data/mysfits.test.csv
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

QUESTION_RANGES = [(1, 5), (1, 5), (1, 4), (1, 4), (1, 5)]

# mysfit id -> its typical answers
PROFILES = {
    1: [5, 5, 1, 1, 5],
    2: [1, 1, 2, 4, 1],
    3: [3, 5, 3, 4, 2],
    4: [5, 1, 4, 1, 3],
    5: [2, 3, 1, 2, 5],
    6: [4, 2, 2, 3, 1],
    7: [1, 4, 4, 2, 4],
    8: [3, 2, 3, 1, 4],
    9: [5, 3, 2, 4, 2],
    10: [2, 5, 4, 3, 1],
    11: [4, 4, 3, 2, 3],
    12: [1, 2, 1, 3, 3],
}
SHIFT_RATE = 0.2  # chance that one answer differs from the profile by one


def one_person(mysfit: int, rng: random.Random) -> list[int]:
    answers = []
    for typical, (low, high) in zip(PROFILES[mysfit], QUESTION_RANGES, strict=True):
        if rng.random() < SHIFT_RATE:
            typical = min(high, max(low, typical + rng.choice([-1, 1])))
        answers.append(typical)
    return answers


def make_people(per_mysfit: int, seed: int) -> list[tuple[int, list[int]]]:
    """(mysfit id, answers) pairs, `per_mysfit` for each mysfit, shuffled."""
    rng = random.Random(seed)
    people = [(mysfit, one_person(mysfit, rng)) for mysfit in PROFILES for _ in range(per_mysfit)]
    rng.shuffle(people)
    return people


def write(path: Path, people: list[tuple[int, list[int]]]) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([mysfit, *answers] for mysfit, answers in people)
    print(f"wrote {path} ({len(people)} rows)")


def main() -> None:
    here = Path(__file__).parent
    write(here / "mysfits.train.csv", make_people(per_mysfit=50, seed=2018))
    write(here / "mysfits.test.csv", make_people(per_mysfit=10, seed=2019))


if __name__ == "__main__":
    main()
