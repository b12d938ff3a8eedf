"""Each test gets its own `/opt/ml`-shaped job folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builtins.jobs import Job


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path / "opt-ml")
