"""A pipeline whose state lives in S3 (moto server): runs, status, and a lock left by a dead run."""

from __future__ import annotations

import json
import re

import boto3

from orchestrator.cli import main
from tests.fakes import FakeTarget, calls


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


def s3_project(project):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="team-state")
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("name: demo\n", "name: demo\nstate: s3://team-state/ml\n"))
    return spec


def test_unlock_refuses_a_live_run_and_with_force_that_run_stops_at_its_next_write(project, aws_env, capsys):
    import os
    import subprocess
    import sys

    from tests.functional.cli_support import ROOT, wait_for_hang
    from tests.state.gated import RUNNER

    spec = s3_project(project)
    state = project / ".orchestrator"
    state.mkdir()
    (state / "gate-train").write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "run", str(spec)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_hang(state)
        assert main(["unlock", str(spec), "--yes"], targets={"local": FakeTarget}) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: the lock is held by a run that is still going: python -m orchestrator run ")
        assert f"(pid {proc.pid} on " in err and "; its process is alive on this host\n" in err
        assert "hint: stop that run instead; if you know it is gone, remove the lock anyway with " in err
        assert f"unlock {spec} --force" in err

        assert main(["unlock", str(spec), "--yes", "--force"], targets={"local": FakeTarget}) == 0
        assert f"Removed the lock of python -m orchestrator run {spec} (pid {proc.pid} on " in capsys.readouterr().out
        (state / "gate-train").unlink()  # the run goes on, and meets its next state write
        _, run_err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 1, run_err
    assert (
        "error: this run no longer holds the lock of s3://team-state/ml/demo/state.json: "
        "its lock was removed (with unlock?); it stopped before writing beside another run\n"
        "  hint: find out who else runs this pipeline, then run again: it resumes\n"
    ) in run_err
    assert "Traceback" not in run_err
    assert [c["op"] for c in calls(state) if c["op"] != "hang"] == ["train"]  # nothing ran after the conflict

    # what it recorded is consistent: train never finished, and the next run resumes from there
    assert main(["run", str(spec)], targets={"local": FakeTarget}) == 0
    assert "run 1 was killed before it finished; resuming where it stopped" in capsys.readouterr().err


def test_unlock_refuses_a_fresh_lease_from_another_host_unless_forced(project, aws_env, capsys):
    import time

    spec = s3_project(project)
    holder = {"pid": 4242, "host": "ci-runner-7", "since": time.time() - 30, "renewed": time.time() - 5}
    holder |= {"lease_s": 60, "command": "python -m orchestrator run pipeline.yaml"}
    boto3.client("s3").put_object(Bucket="team-state", Key="ml/demo/lock.json", Body=json.dumps(holder))
    assert main(["unlock", str(spec), "--yes"], targets={"local": FakeTarget}) == 2
    err = capsys.readouterr().err
    assert "error: the lock is held by a run that is still going: python -m orchestrator run pipeline.yaml " in err
    assert "(pid 4242 on ci-runner-7)" in err
    assert re.search(r"; it renewed its lease [5-9] s ago\n", err), err  # 5 s, and the time validate took
    assert main(["unlock", str(spec), "--yes", "--force"], targets={"local": FakeTarget}) == 0
    assert "Removed the lock of python -m orchestrator run pipeline.yaml (pid 4242 on ci-runner-7)" in (
        capsys.readouterr().out
    )
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket="team-state", Prefix="ml/demo/lock")


def test_destroy_takes_the_s3_lock_refusing_a_run_in_progress(project, aws_env, capsys):
    import os
    import subprocess
    import sys

    from tests.functional.cli_support import ROOT, wait_for_hang
    from tests.state.gated import RUNNER

    spec = s3_project(project)
    assert main(["destroy", str(spec), "--yes"], targets={"local": FakeTarget}) == 0  # never ran
    assert "Nothing to destroy" in capsys.readouterr().out
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket="team-state")  # its lock came and went
    state = project / ".orchestrator"
    state.mkdir()
    (state / "gate-train").write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "run", str(spec)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_hang(state)
        assert main(["destroy", str(spec), "--yes"], targets={"local": FakeTarget}) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert f"error: this pipeline is locked: python -m orchestrator run {spec} (pid {proc.pid} on " in captured.err
        (state / "gate-train").unlink()
        assert proc.wait(timeout=60) == 0  # the run was not disturbed
    finally:
        proc.kill()
        proc.wait()
    assert [c["op"] for c in calls(state) if c["op"] != "hang"] == ["train", "deploy", "api", "website"]


def test_with_state_in_s3_the_local_folder_is_private_as_with_sqlite(project, aws_env):
    import stat

    spec = s3_project(project)
    assert main(["run", str(spec)], targets={"local": FakeTarget}) == 0
    folder = project / ".orchestrator"  # the target's own files (here calls.jsonl; locally logs, artifacts)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / ".gitignore").read_text() == "*\n"
    assert (folder / "calls.jsonl").exists()
    assert not (folder / "state.db").exists()


def test_an_existing_local_folder_becomes_private_at_the_next_run(project, aws_env):
    import stat

    spec = s3_project(project)
    (project / ".orchestrator").mkdir(mode=0o755)  # made by an older version, world-readable
    (project / ".orchestrator").chmod(0o755)
    assert main(["run", str(spec)], targets={"local": FakeTarget}) == 0
    assert stat.S_IMODE((project / ".orchestrator").stat().st_mode) == 0o700
