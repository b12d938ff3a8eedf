"""Reading the label-first CSV training data that KNN, XGBoost and Linear Learner share.

The built-ins take CSV without a header, the label in the first column; a channel may hold
one file or a folder of them (SageMaker's File mode copies every object under the prefix).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from orchestrator.targets.local.algorithms._contract import fail


def data_files(channel: Path) -> list[Path]:
    """The channel's files in name order, skipping hidden ones (e.g. `.ipynb_checkpoints`)."""
    if channel.is_file():
        return [channel]
    files = [
        path
        for path in sorted(channel.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(channel).parts)
    ]
    if not files:
        fail(f"the channel folder {channel.name} holds no data files")
    return files


def read_labelled_csv(channel: Path) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) from every CSV file of a channel."""
    blocks = []
    for path in data_files(channel):
        try:
            block = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as exc:
            fail(f"{path.name} is not numeric CSV with the label first and no header: {exc}")
        if block.size == 0:
            continue
        if block.shape[1] < 2:
            fail(f"{path.name} needs the label and at least one feature in every row")
        blocks.append(block)
    if not blocks:
        fail(f"the channel {channel.name} holds no rows")
    widths = {block.shape[1] for block in blocks}
    if len(widths) > 1:
        fail(f"the CSV files of channel {channel.name} have different numbers of columns: {sorted(widths)}")
    data = np.vstack(blocks)
    if not np.isfinite(data[:, 0]).all():
        fail(f"channel {channel.name} has rows without a numeric label")
    return data[:, 1:], data[:, 0]


def require_csv(content_type: str | None, channel: str, algorithm: str) -> None:
    if content_type not in (None, "text/csv", "csv"):
        fail(
            f"channel {channel} has ContentType {content_type}; the local {algorithm} reads text/csv "
            "(label first, no header) only"
        )
