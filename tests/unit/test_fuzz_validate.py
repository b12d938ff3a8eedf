"""A few hundred hostile specs: `validate` refuses each with located problems or passes it, and
`plan` takes whatever `validate` passed. Never a crash, a traceback or a hang.

The specs are seeded (tests/unit/spec_fuzz.py); `benchmarks/fuzz_validate.py` runs 10,000
of them with a time and memory cap each, and rebuilds any one of them by its number.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from .spec_fuzz import check, copy_seeds, fuzzed

SEED = 2026
COUNT = 250
SLOWEST_S = 10  # far above the slowest spec seen (about 1.5 s for a 600 KB one); a hang is minutes


@pytest.fixture
def quiet_aws(monkeypatch):
    """Targets' checks never reach AWS: dummy credentials, and an endpoint where nothing listens."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "fuzz",
        "AWS_SECRET_ACCESS_KEY": "fuzz",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)


def test_fuzzed_specs_are_refused_with_a_location_or_planned(tmp_path, quiet_aws):
    seeds = copy_seeds(tmp_path)
    answers: Counter[tuple[str, int]] = Counter()
    failures = []
    for index in range(COUNT):
        spec = fuzzed(seeds, SEED, index)
        started = time.monotonic()
        outcomes = check(spec)
        took = time.monotonic() - started
        answers.update((o.command, o.code) for o in outcomes)
        failures += [f"{spec.label}: {o.command} {o.problem}\n{o.err[:500]}" for o in outcomes if o.problem]
        if took > SLOWEST_S:
            failures.append(f"{spec.label}: took {took:.1f} s")
    assert not failures, "\n".join(failures[:10])
    # the run means something only if it reached both answers: refusals, and plans of what passed
    assert answers[("validate", 2)] > COUNT / 2, answers
    assert answers[("plan", 0)] >= 10, answers
    assert answers[("plan", 0)] == answers[("validate", 0)]


def test_the_same_seed_gives_the_same_specs(tmp_path):
    seeds = copy_seeds(tmp_path)
    first = [fuzzed(seeds, SEED, i).data for i in range(20)]
    assert first == [fuzzed(seeds, SEED, i).data for i in range(20)]
    assert len(set(first)) == 20
