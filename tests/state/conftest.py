"""Every state backend passes the same suite: SQLite in a temp folder, S3 on a moto server."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_url, monkeypatch):
    """boto3 reaches the moto server only, with dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    return moto_url


@pytest.fixture(params=["sqlite", "s3"])
def make_store(request, tmp_path: Path) -> Callable:
    """A factory: each call opens a new handle on the same state (like a second process would)."""
    if request.param == "sqlite":
        from orchestrator.state.sqlite import SqliteStore

        return lambda: SqliteStore(tmp_path / "state")
    request.getfixturevalue("aws_env")
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="team-state")
    from orchestrator.state.s3 import S3Store

    return lambda: S3Store("team-state", "pipelines", "demo", "us-east-1")
