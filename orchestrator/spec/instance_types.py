"""Instance types SageMaker accepts, per job kind, so typos fail before money is spent.

Families and sizes follow the SageMaker pricing pages; `ml.t2`/`ml.t3` serve
endpoints but cannot train.
"""

from __future__ import annotations

from functools import cache


def _expand(spec: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(f"ml.{family}.{size}" for family, sizes in spec.items() for size in sizes)


_COMMON = {
    "m4": ("xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"),
    "m5": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "m5d": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "m6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "m7i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"),
    "c4": ("xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "c5": ("xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"),
    "c5n": ("xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"),
    "c6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "c7i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"),
    "r5": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "r6i": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "p3": ("2xlarge", "8xlarge", "16xlarge"),
    "p4d": ("24xlarge",),
    "p5": ("48xlarge",),
    "g4dn": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "g5": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"),
    "g6": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"),
}

_HOSTING_ONLY = {
    "t2": ("medium", "large", "xlarge", "2xlarge"),
    "t3": ("medium", "large", "xlarge", "2xlarge"),
    "c5d": ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"),
    "c5": ("large",),
    "inf1": ("xlarge", "2xlarge", "6xlarge", "24xlarge"),
    "inf2": ("xlarge", "8xlarge", "24xlarge", "48xlarge"),
}

_TRAINING_ONLY = {
    "trn1": ("2xlarge", "32xlarge"),
    "p3dn": ("24xlarge",),
}


@cache
def training_types() -> frozenset[str]:
    return _expand(_COMMON) | _expand(_TRAINING_ONLY)


@cache
def hosting_types() -> frozenset[str]:
    return _expand(_COMMON) | _expand(_HOSTING_ONLY)
