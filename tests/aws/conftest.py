"""A real moto server on 127.0.0.1 for the aws target's tests, reset between tests.

boto3 reaches it over HTTP through AWS_ENDPOINT_URL, with dummy credentials and
no shared config files, so nothing here can touch a real account.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from . import strict
from .aws_support import BUCKET, REGION, ROLE_NAME


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def strict_aws():
    """Each test's requests are held against AWS's rules; one AWS would refuse fails the test
    (unless the test said it provokes that refusal with `strict_aws.expect(rule)`)."""
    layer = strict.reset()
    yield layer
    unexpected = layer.unexpected()
    assert not unexpected, "requests AWS would refuse:\n" + "\n".join(unexpected)


@pytest.fixture
def aws_env(moto_url, monkeypatch, tmp_path):
    """Point boto3 at moto (restored after the test) and start from an empty account."""
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    for key, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    return moto_url


@pytest.fixture
def account(aws_env) -> dict[str, str]:
    """A role and a bucket, as a user would have made them before the first run."""
    import boto3

    session = boto3.Session(region_name=REGION)
    role = session.client("iam").create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session.client("s3").create_bucket(Bucket=BUCKET)
    return {"role_arn": role, "bucket": BUCKET}


@pytest.fixture
def boto(aws_env):
    """Plain boto3 clients for arranging and inspecting moto's state (not for the code under test)."""
    import boto3

    session = boto3.Session(region_name=REGION)
    return {name: session.client(name) for name in ("s3", "sagemaker", "iam")}


@pytest.fixture
def project(tmp_path) -> Path:
    """A spec folder with data, a training script and an inference handler."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "reviews.csv").write_text("text,label\ngreat,1\nawful,0\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "train.py").write_text("print('accuracy=0.9')\n")
    (tmp_path / "models" / "inference.py").write_text("def model_fn(model_dir):\n    return None\n")
    return tmp_path
