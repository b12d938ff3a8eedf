"""Fixtures for the local target: a fixture project and daemons that are always stopped."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from orchestrator.spec.models import ApiStep, WebsiteStep
from orchestrator.targets.local.daemon.client import DaemonClient, DaemonError
from orchestrator.targets.local.daemon.protocol import ApiRequest, EndpointRequest, WebsiteRequest
from orchestrator.targets.local.gateway.handler import api_request
from orchestrator.targets.local.storage.handler import website_request

from .project_files import build_project

ENDPOINT = "ep-main"


@pytest.fixture(scope="session")
def files(tmp_path_factory) -> dict[str, Path]:
    return build_project(tmp_path_factory.mktemp("project"))


def stop_daemon(client: DaemonClient) -> None:
    """Stop a daemon this test session started; its services' record stays, as after a crash."""
    info = client.info()
    if info is None:
        return
    try:
        client._call(info, "POST", "/stop")
    except DaemonError:
        pass
    if not client.wait_stopped(info["pid"], 15):
        os.kill(info["pid"], signal.SIGKILL)  # our own child's pid: it cannot have been reused yet
        client.wait_stopped(info["pid"], 5)


class Daemons:
    """Hands out daemon clients and makes sure every daemon they started is gone at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.clients: list[DaemonClient] = []

    def new(self, name: str) -> DaemonClient:
        client = DaemonClient(self.root / name)
        self.clients.append(client)
        return client

    def cleanup(self) -> None:
        for client in self.clients:
            stop_daemon(client)


@pytest.fixture
def daemons(tmp_path):
    manager = Daemons(tmp_path)
    yield manager
    manager.cleanup()


@pytest.fixture(scope="session")
def session_daemons(tmp_path_factory):
    manager = Daemons(tmp_path_factory.mktemp("daemons"))
    yield manager
    manager.cleanup()


def api_step(routes: list[dict], cors: dict | None = None, stage: str = "prod") -> dict:
    step = {"type": "api", "stage": stage, "routes": routes}
    if cors is not None:
        step["cors"] = cors
    return step


def api_spec(step: dict, base_dir: Path, region: str = "us-east-1") -> ApiRequest:
    """What the target sends the daemon for this `api` step (the spec's defaults filled in, its
    lambda routes packaged under `<base_dir>/.bundles`)."""
    return api_request(ApiStep.model_validate(step), Path(base_dir), region, Path(base_dir) / ".bundles")


def site_spec(source: Path, **fields) -> WebsiteRequest:
    """What the target sends the daemon for a `website` step serving `source`."""
    return website_request(WebsiteStep(type="website", source=str(source), **fields), Path(source))


def lambda_route(method: str, path: str, function: str, **extra) -> dict:
    return {
        "method": method,
        "path": path,
        "integration": "lambda",
        "handler": f"api/handlers.py:{function}",
        "endpoint": ENDPOINT,
        **extra,
    }


@pytest.fixture(scope="session")
def cloud(files, session_daemons):
    """One daemon with the main endpoint, a custom-handler endpoint and an API, shared by read-only tests."""
    client = session_daemons.new("shared")
    main = client.put(ENDPOINT, EndpointRequest(files["model_v1"].as_uri(), None, {}))
    custom = client.put("ep-custom", EndpointRequest(files["model_v1"].as_uri(), str(files["custom_inference"]), {}))
    transform = client.put(
        "ep-transform",
        EndpointRequest(
            files["transform_model"].as_uri(),
            str(files["transform_inference"]),
            {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/x-default"},
        ),
    )
    routes = [
        lambda_route("POST", "/predict", "predict", timeout_s=10),
        lambda_route("ANY", "/echo/{id}", "echo", environment={"GREETING": "hello"}),
        lambda_route("GET", "/files/{proxy+}", "echo"),
        lambda_route("GET", "/binary", "binary"),
        lambda_route("POST", "/boom", "boom"),
        lambda_route("GET", "/malformed", "malformed"),
        lambda_route("GET", "/not-a-dict", "not_a_dict"),
        lambda_route("GET", "/slow", "slow", timeout_s=1),
        lambda_route("POST", "/predict-missing", "predict", endpoint="no-such-endpoint"),
        lambda_route("GET", "/no-function", "missing_function"),
        {"method": "POST", "path": "/invocations", "integration": "direct", "endpoint": ENDPOINT},
        {
            "method": "POST",
            "path": "/csv",
            "integration": "direct",
            "endpoint": ENDPOINT,
            "content_type": "text/csv",
            "accept": "text/csv",
        },
        {"method": "POST", "path": "/slow-direct", "integration": "direct", "endpoint": "ep-custom", "timeout_s": 1},
        {"method": "POST", "path": "/missing-direct", "integration": "direct", "endpoint": "no-such-endpoint"},
    ]
    api = client.put("api-main", api_spec(api_step(routes), files["root"]))
    return {
        "client": client,
        "endpoint_port": main.port,
        "custom_port": custom.port,
        "transform_port": transform.port,
        "api": f"http://127.0.0.1:{api.port}/prod",
        "api_port": api.port,
        "log": client.home.log_file,
    }
