"""XGBoost's training inputs: CSV (label first; `csv_weights=1` puts a weight second) or LIBSVM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse

from orchestrator.targets.local.algorithms._contract import fail
from orchestrator.targets.local.algorithms._tabular import data_files, read_labelled_csv

CSV_TYPES = ("text/csv", "csv")
LIBSVM_TYPES = ("text/libsvm", "libsvm", "text/x-libsvm")


@dataclass
class Labelled:
    features: np.ndarray | scipy.sparse.csr_matrix
    labels: np.ndarray
    weights: np.ndarray | None = None


def data_format(channel: Path, content_type: str | None) -> str:
    """ "csv" or "libsvm": the channel's declared ContentType, else a look at the first line."""
    if content_type in CSV_TYPES:
        return "csv"
    if content_type in LIBSVM_TYPES:
        return "libsvm"
    if content_type is not None:
        fail(f"ContentType {content_type} is not read by the local XGBoost; use text/csv or text/libsvm")
    first = ""
    with data_files(channel)[0].open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                first = line.strip()
                break
    return "libsvm" if ":" in first and "," not in first else "csv"


def read_csv(channel: Path, csv_weights: bool) -> Labelled:
    features, labels = read_labelled_csv(channel)
    if not csv_weights:
        return Labelled(features, labels)
    if features.shape[1] < 2:
        fail("csv_weights=1 needs the label, the weight and at least one feature in every row")
    return Labelled(features[:, 1:], labels, features[:, 0])


def read_libsvm(channels: dict[str, Path]) -> dict[str, Labelled]:
    """All channels at once, so they agree on the number of features."""
    from sklearn.datasets import load_svmlight_files

    names = list(channels)
    files = {name: data_files(channels[name]) for name in names}
    flat = [str(path) for name in names for path in files[name]]
    try:
        loaded = load_svmlight_files(flat, zero_based=True, dtype=np.float32)
    except ValueError as exc:
        fail(f"the LIBSVM data could not be read: {exc}")
    matrices, labels = loaded[0::2], loaded[1::2]
    result, start = {}, 0
    for name in names:
        count = len(files[name])
        result[name] = Labelled(
            scipy.sparse.vstack(matrices[start : start + count]).tocsr(), np.concatenate(labels[start : start + count])
        )
        start += count
    return result
