"""Fixtures for the Pulumi program (run under mocks, one process per scenario) and the hand-off."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.spec.models import Pipeline

from .api_runs import DIRECT_ROUTE, LAMBDA_ROUTE, api_config
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
    return run_program(
        project,
        api_config(
            project,
            {
                "stage": "prod",
                "routes": [LAMBDA_ROUTE],
                "cors": {"allow_origins": ["*"]},
                "api_key": {"quota_limit": 1000, "quota_period": "WEEK"},
                "throttling": {"rate_limit": 20, "burst_limit": 40},
            },
        ),
    )


@pytest.fixture(scope="session")
def direct_run(project) -> ProgramRun:
    """A direct route, no CORS, no API key, default throttling."""
    return run_program(project, api_config(project, {"stage": "prod", "routes": [DIRECT_ROUTE]}))


@pytest.fixture(scope="session")
def plain_lambda_run(project) -> ProgramRun:
    """A lambda route without CORS: the handler is the function's handler, no shim."""
    return run_program(project, api_config(project, {"stage": "prod", "routes": [LAMBDA_ROUTE]}))


@pytest.fixture(scope="session")
def mixed_run(project) -> ProgramRun:
    """Both kinds on nested paths with parameters, CORS for two named origins with credentials."""
    return run_program(
        project,
        api_config(
            project,
            {
                "stage": "beta",
                "routes": [
                    {**LAMBDA_ROUTE, "method": "GET", "path": "/items/{id}"},
                    {**DIRECT_ROUTE, "method": "ANY", "path": "/items/{id}/score"},
                ],
                "cors": {
                    "allow_origins": ["https://a.example", "https://b.example"],
                    "allow_credentials": True,
                    "expose_headers": ["X-Request-Id"],
                },
            },
        ),
        stack="demo-beta",
    )
