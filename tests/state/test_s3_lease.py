"""The S3 lock's lease: renewed while its run holds it, and a run whose lock was removed or
taken stops at its next write instead of writing beside another run (moto server)."""

from __future__ import annotations

import json
import socket
import time

import boto3
import pytest

from orchestrator.state.base import LockHeld, StateConflict, StepRun
from orchestrator.state.s3 import S3Store


@pytest.fixture
def bucket(aws_env):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="team-state")
    return "team-state"


def store(lease_s: float = 60.0) -> S3Store:
    return S3Store("team-state", "pipelines", "demo", "us-east-1", lease_s=lease_s)


def lock_object() -> dict:
    body = boto3.client("s3").get_object(Bucket="team-state", Key="pipelines/demo/lock.json")["Body"].read()
    return json.loads(body)


def test_a_held_lock_names_its_holder_and_keeps_its_lease_fresh(bucket):
    run = store(lease_s=6.0)  # renewed every 2 s
    with run.lock("python -m orchestrator run p.yaml"):
        first = lock_object()
        deadline = time.monotonic() + 60  # however slow this machine is: wait for a renewal, not a time
        holder = store().lock_holder()
        while holder["renewed"] <= first["renewed"] and time.monotonic() < deadline:
            time.sleep(0.2)
            holder = store().lock_holder()
        assert holder["renewed"] > first["renewed"]  # the run renewed its lease on its own
        assert holder["lease_fresh"] is True and holder["alive"] is True
        assert (holder["host"], holder["command"]) == (socket.gethostname(), "python -m orchestrator run p.yaml")
    assert store().lock_holder() is None


def test_a_lease_not_renewed_in_time_is_stale(bucket):
    from orchestrator.state.s3_lease import LeaseLock

    class Frozen(LeaseLock):
        def _renew_until_released(self):  # a run whose renewals stopped (a laptop asleep, a lost network)
            self._stop.wait()

    lock = Frozen(boto3.client("s3", region_name="us-east-1"), bucket, "lock.json", lease_s=0.3)
    lock.acquire("run")
    try:
        time.sleep(0.5)
        assert lock.holder()["lease_fresh"] is False
    finally:
        lock.release()


def test_a_run_whose_lock_was_removed_writes_nothing_more(bucket):
    run = store()
    with run.lock("first"):
        record = run.begin_run("demo", "local", "first")
        store().break_lock()  # `unlock --force` while the run goes on
        serial = store().serial()
        with pytest.raises(StateConflict) as info:
            run.step_started(StepRun(record.id, "train", "training", "run", "running", "fp", time.time()))
        assert str(info.value) == (
            "this run no longer holds the lock of s3://team-state/pipelines/demo/state.json: "
            "its lock was removed (with unlock?); it stopped before writing beside another run"
        )
        assert store().serial() == serial and store().step_runs(record.id) == []
        with pytest.raises(StateConflict):  # and every later write too
            run.finish_run(record.id, "succeeded")


def test_a_run_whose_lock_was_taken_names_the_new_holder_and_leaves_its_writes_alone(bucket):
    first, second = store(), store()
    with first.lock("python -m orchestrator run first.yaml"):
        mine = first.begin_run("demo", "local", "first")
        store().break_lock()
        with second.lock("python -m orchestrator run second.yaml"):
            theirs = second.begin_run("demo", "local", "second")
            with pytest.raises(StateConflict) as info:
                first.finish_run(mine.id, "succeeded")
            assert "python -m orchestrator run second.yaml (pid " in str(info.value)
            assert str(info.value).endswith("now; it stopped before writing beside another run")
            second.finish_run(theirs.id, "succeeded")  # the run that holds the lock goes on
    assert {r.id: r.status for r in store().runs()} == {mine.id: "running", theirs.id: "succeeded"}
    assert store().lock_holder() is None  # the first run's exit did not delete the second's lock


def test_unlock_removes_only_the_lock_it_looked_at(bucket):
    seen = store()
    with store().lock("old"):
        assert seen.lock_holder()["command"] == "old"
    with store().lock("new"):  # taken again between the look and the removal
        with pytest.raises(LockHeld) as info:
            seen.break_lock()
        assert info.value.holder["command"] == "new"
        assert store().lock_holder()["command"] == "new"
