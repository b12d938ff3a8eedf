"""Fixtures for the Pulumi program (run under mocks, one process per scenario) and the hand-off."""

from __future__ import annotations

from pathlib import Path

import pytest

from .pulumi_support import make_project


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("project"))
