"""A pipeline whose state lives in S3 (moto server): runs, status, and a lock left by a dead run."""

from __future__ import annotations

import json

import boto3

from orchestrator.cli import main
from tests.fakes import FakeTarget


def test_run_status_and_unlock_with_state_in_s3(project, aws_env, capsys):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="team-state")
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("name: demo\n", "name: demo\nstate: s3://team-state/ml\n"))
    targets = {"local": FakeTarget}
    assert main(["run", str(spec)], targets=targets) == 0
    assert not (project / ".orchestrator" / "state.db").exists()
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="team-state")["Contents"]]
    assert keys == ["ml/demo/state.json"]

    capsys.readouterr()
    assert main(["status", str(spec), "--json"], targets=targets) == 0
    assert json.loads(capsys.readouterr().out)["run"]["status"] == "succeeded"

    # a CI job that died while holding the lock
    boto3.client("s3").put_object(
        Bucket="team-state",
        Key="ml/demo/lock.json",
        Body=json.dumps(
            {
                "pid": 4242,
                "host": "ci-runner-7",
                "since": 1700000000,
                "command": "python -m orchestrator run pipeline.yaml",
            }
        ),
    )
    assert main(["run", str(spec), "--force", "train"], targets=targets) == 1
    err = capsys.readouterr().err
    assert (
        "error: this pipeline is locked: python -m orchestrator run pipeline.yaml (pid 4242 on ci-runner-7) "
        "has held the lock since 2023-11-14 22:13:20 UTC"
    ) in err
    assert main(["unlock", str(spec), "--yes"], targets=targets) == 0
    assert (
        "Removed the lock of python -m orchestrator run pipeline.yaml (pid 4242 on ci-runner-7)"
        in capsys.readouterr().out
    )
    assert main(["run", str(spec), "--force", "train"], targets=targets) == 0
