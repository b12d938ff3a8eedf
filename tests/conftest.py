"""Shared fixtures: a throwaway project folder with a small valid pipeline."""

from __future__ import annotations

import os
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


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium():
    """Headless Chromium from Debian's package, driven by playwright (never a downloaded browser).

    Skipped with the reason where the package is missing, except in CI, which must install it.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium); the browser test needs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
