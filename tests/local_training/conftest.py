"""Shared pieces for the local training tests: a project folder, a context and a collecting reporter."""

from __future__ import annotations

import csv
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orchestrator.spec.models import Pipeline, TrainingStep
from orchestrator.targets.base import StepContext


@dataclass
class CollectingReporter:
    """Keeps everything a target reports, with the time each log line arrived."""

    lines: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def log(self, line: str) -> None:
        self.lines.append(line)
        self.arrivals.append(time.monotonic())

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def info(self, text: str) -> None:
        self.infos.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)


@dataclass
class Project:
    """A spec folder in a temp dir: scripts and data are written here, state goes to .orchestrator/."""

    root: Path
    reporter: CollectingReporter = field(default_factory=CollectingReporter)

    @property
    def state_dir(self) -> Path:
        return self.root / ".orchestrator"

    @property
    def home(self) -> Path:
        return self.state_dir / "local"

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def step(self, **fields: Any) -> TrainingStep:
        return TrainingStep(type="training", framework=fields.pop("framework", "sklearn"), **fields)

    def context(self, step: TrainingStep, *, fingerprint: str = "0f1e2d3c4b5a6978", name: str = "train") -> StepContext:
        pipeline = Pipeline(name="movie-reviews", steps={name: step})
        return StepContext(
            pipeline=pipeline,
            step=name,
            kind="training",
            run_id=1,
            fingerprint=fingerprint,
            project_dir=self.root,
            state_dir=self.state_dir,
            previous=None,
            upstream={},
            reporter=self.reporter,
        )


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")


@pytest.fixture
def reviews_csv(project: Project) -> Path:
    """A small, separable two-class data set: label first, then four features."""
    from sklearn.datasets import make_classification

    features, labels = make_classification(n_samples=200, n_features=4, n_informative=3, n_redundant=0, random_state=7)
    path = project.root / "data" / "reviews.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        for label, row in zip(labels, features, strict=True):
            writer.writerow([int(label), *(f"{value:.6f}" for value in row)])
    return path


SKLEARN_TRAIN = """
    import argparse, json, os
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser()
    parser.add_argument("-C", type=float, default=1.0)  # one-letter names arrive as -C
    args, _ = parser.parse_known_args()

    data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "reviews.csv"), delimiter=",")
    labels, features = data[:, 0], data[:, 1:]
    model = LogisticRegression(C=args.C).fit(features, labels)
    print(f"accuracy={model.score(features, labels):.4f}")
    joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""


@pytest.fixture
def sklearn_script(project: Project) -> Callable[[], str]:
    def write() -> str:
        project.write("models/sentiment/train.py", SKLEARN_TRAIN)
        return "models/sentiment/train.py"

    return write


def stored(home: Path, uri: str) -> Path:
    """The file behind an s3:// output in the local S3 of `home` (read from its files, as plan does)."""
    from orchestrator.targets.local.storage.layout import S3Layout, split_s3_uri

    path = S3Layout(home / "s3").object_file(*split_s3_uri(uri))
    assert path is not None, f"{uri} is not in the local S3"
    return path


def stored_keys(home: Path, uri: str) -> list[str]:
    """Every key under an s3:// prefix in the local S3 of `home`."""
    from orchestrator.targets.local.storage.layout import S3Layout, split_s3_uri

    bucket, prefix = split_s3_uri(uri)
    return [meta["key"] for meta in S3Layout(home / "s3").listing(bucket, prefix)]
