"""A training job reads s3:// inputs and its script reaches the local S3 with boto3, unchanged."""

from __future__ import annotations

import boto3

from orchestrator.targets.local.daemon.client import DaemonClient
from orchestrator.targets.local.training.job import run_training

from .conftest import stored

SCRIPT = """
    import json, os
    import boto3

    s3 = boto3.client("s3")  # no endpoint_url: AWS_ENDPOINT_URL_S3 points it at the local S3
    body = s3.get_object(Bucket="raw-data", Key="extra/notes.txt")["Body"].read().decode()
    s3.put_object(Bucket="raw-data", Key="written-by-the-job.txt", Body=b"hello from training")
    channel = os.environ["SM_CHANNEL_TRAIN"]
    seen = {
        "files": sorted(os.path.relpath(os.path.join(d, f), channel) for d, _, fs in os.walk(channel) for f in fs),
        "notes": body,
        "aws": {k: v for k, v in os.environ.items() if k.startswith("AWS_")},
    }
    open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w").write(json.dumps(seen))
"""


def test_s3_inputs_come_from_the_local_s3_and_the_script_uses_it_with_boto3(project, monkeypatch):
    with DaemonClient(project.home).hold() as url:
        s3 = boto3.client(
            "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
        s3.create_bucket(Bucket="raw-data")
        for key, body in {"train/a.csv": b"1,2", "train/deep/b.csv": b"3,4", "extra/notes.txt": b"notes"}.items():
            s3.put_object(Bucket="raw-data", Key=key, Body=body)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALSHELLKEY")  # the shell's real account never reaches a job
        monkeypatch.setenv("AWS_PROFILE", "production")
        project.write("train.py", SCRIPT)
        step = project.step(entry_point="train.py", inputs={"train": "s3://raw-data/train/"})
        result = run_training(step, project.context(step), project.home)
        assert s3.get_object(Bucket="raw-data", Key="written-by-the-job.txt")["Body"].read() == b"hello from training"

    import json
    import tarfile

    with tarfile.open(stored(project.home, result.outputs["model"])) as tar:
        seen = json.loads(tar.extractfile("seen.json").read())
    assert seen["files"] == ["a.csv", "deep/b.csv"]
    assert seen["notes"] == "notes"
    assert seen["aws"] == {
        "AWS_ENDPOINT_URL_S3": url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
