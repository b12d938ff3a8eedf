"""Local stand-ins for SageMaker's built-in algorithms.

Each algorithm is a package with a `train` program (run as `python -m <package>.train` under
SageMaker's training contract) and an `inference` module with SageMaker's handler functions
(`model_fn`, `input_fn`, `predict_fn`, `output_fn`), so the local target runs and serves them
like user code. Training leaves `orchestrator-builtin.json` in the model folder, naming the
algorithm, so whoever serves a model can pick the right inference module.

This module stays light: it imports neither scikit-learn nor xgboost.
"""

from __future__ import annotations

import json
from pathlib import Path

MARKER_FILE = "orchestrator-builtin.json"

ALGORITHMS: dict[str, str] = {
    "knn": "orchestrator.targets.local.algorithms.knn",
    "xgboost": "orchestrator.targets.local.algorithms.xgboost_algo",
    "linear-learner": "orchestrator.targets.local.algorithms.linear_learner",
    "blazingtext": "orchestrator.targets.local.algorithms.blazingtext",
}


def _package(name: str) -> str:
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ValueError(
            f"no local stand-in for built-in algorithm '{name}'; available: {', '.join(sorted(ALGORITHMS))}"
        ) from None


def train_module(name: str) -> str:
    """The module to run with `python -m` to train `name` locally."""
    return f"{_package(name)}.train"


def inference_module(name: str) -> str:
    """The module holding `model_fn`/`input_fn`/`predict_fn`/`output_fn` for `name`."""
    return f"{_package(name)}.inference"


def read_marker(model_dir: str | Path) -> str | None:
    """The algorithm a stand-in trained into `model_dir`, or None for any other model."""
    path = Path(model_dir) / MARKER_FILE
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    algorithm = marker.get("algorithm") if isinstance(marker, dict) else None
    return algorithm if algorithm in ALGORITHMS else None
