"""Shared fixtures: a throwaway project folder with a small valid pipeline."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """\
version: 1
name: demo
steps:
  train:
    type: training
    framework: sklearn
    entry_point: train.py
    inputs: {train: data.csv}
    hyperparameters: {C: 1.0}
    metrics: [{name: accuracy, regex: 'accuracy=([0-9.]+)'}]
  deploy:
    type: endpoint
    model: ${steps.train.outputs.model}
    instance: {type: ml.t2.medium}
  api:
    type: api
    routes:
      - method: POST
        path: /predict
        integration: direct
        endpoint: ${steps.deploy.outputs.endpoint_name}
  site:
    type: website
    source: web
    config:
      apiUrl: ${steps.api.outputs.url}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with pipeline.yaml, its script, data and web page."""
    (tmp_path / "train.py").write_text("print('accuracy=0.9')\n")
    (tmp_path / "data.csv").write_text("1,2\n3,4\n")
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<h1>hi</h1>\n")
    (tmp_path / "pipeline.yaml").write_text(MINIMAL)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """A copy of the repository's example pipeline and its files."""
    for name in ("pipeline.yaml", "models", "data", "api", "web"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, tmp_path / name)
    return tmp_path
