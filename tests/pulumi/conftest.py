"""Fixtures for the Pulumi program (run under mocks, one process per scenario) and the hand-off."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.spec.models import Pipeline

from .api_runs import DIRECT_API, LAMBDA_API, MIXED_API, PLAIN_LAMBDA_API, api_config
from .fake_pulumi import FakeCloud
from .handoff_support import make_pipeline
from .pulumi_support import ProgramRun, make_project, run_program


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def pipeline() -> Pipeline:
    return make_pipeline()


# -- runs of the program's API, shared by the API test modules -------------------------------


@pytest.fixture(scope="session")
def lambda_run(project) -> ProgramRun:
    """A lambda route with CORS for any origin, an API key with a weekly quota, custom throttling."""
    return run_program(project, api_config(project, LAMBDA_API))


@pytest.fixture(scope="session")
def direct_run(project) -> ProgramRun:
    """A direct route, no CORS, no API key, default throttling."""
    return run_program(project, api_config(project, DIRECT_API))


@pytest.fixture(scope="session")
def plain_lambda_run(project) -> ProgramRun:
    """A lambda route without CORS: the handler is the function's handler, no shim."""
    return run_program(project, api_config(project, PLAIN_LAMBDA_API))


@pytest.fixture(scope="session")
def mixed_run(project) -> ProgramRun:
    """Both kinds on nested paths with parameters, CORS for two named origins with credentials."""
    return run_program(project, api_config(project, MIXED_API), stack="demo-beta")
