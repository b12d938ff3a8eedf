"""The contract every StateStore keeps; parametrized over SQLite and S3 (moto server)."""

from __future__ import annotations

import threading
import time

import pytest

from orchestrator.state.base import LiveModel, LockHeld, Resource, StepRun


def resource(step: str, run_id: int, url: str = "u") -> Resource:
    return Resource(
        step, "endpoint", "fp-" + step, {"digest": "fp-" + step}, {"url": url}, {"acc": 0.9}, {}, run_id, time.time()
    )


def test_a_run_and_its_steps_are_recorded(make_store):
    store = make_store()
    assert store.runs() == [] and store.resources() == {} and store.last_run() is None
    run = store.begin_run("demo", "local", "python -m orchestrator run p.yaml")
    store.step_started(StepRun(run.id, "deploy", "endpoint", "run", "running", "fp-deploy", time.time()))
    store.step_finished(
        run.id,
        "deploy",
        "succeeded",
        outputs={"url": "u"},
        metrics={"acc": 0.9},
        message="deployed",
        resource=resource("deploy", run.id),
    )
    store.finish_run(run.id, "succeeded")

    other = make_store()  # a second handle sees everything: nothing is held only in memory
    [last] = other.runs()
    assert (last.id, last.status, last.command) == (run.id, "succeeded", "python -m orchestrator run p.yaml")
    [attempt] = other.step_runs(run.id)
    assert (attempt.step, attempt.status, attempt.outputs, attempt.metrics, attempt.message) == (
        "deploy",
        "succeeded",
        {"url": "u"},
        {"acc": 0.9},
        "deployed",
    )
    assert other.resources()["deploy"].outputs == {"url": "u"}


def test_runs_are_listed_newest_first_and_ids_grow(make_store):
    store = make_store()
    ids = [store.begin_run("demo", "local", f"run {i}").id for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [r.id for r in store.runs()] == list(reversed(ids))
    assert [r.id for r in store.runs(limit=2)] == list(reversed(ids))[:2]


def test_failed_step_keeps_the_previous_resource_and_destroy_removes_it(make_store):
    store = make_store()
    first = store.begin_run("demo", "local", "c")
    store.step_started(StepRun(first.id, "deploy", "endpoint", "run", "running", "fp", time.time()))
    store.step_finished(first.id, "deploy", "succeeded", resource=resource("deploy", first.id, "old"))
    second = store.begin_run("demo", "local", "c")
    store.step_started(StepRun(second.id, "deploy", "endpoint", "replace", "running", "fp2", time.time()))
    store.step_finished(second.id, "deploy", "failed", error="boom")
    store.finish_run(second.id, "failed", "boom", "deploy")
    assert store.resources()["deploy"].outputs == {"url": "old"}
    assert store.last_run().failed_step == "deploy"
    third = store.begin_run("demo", "local", "c")
    store.step_started(StepRun(third.id, "deploy", "endpoint", "delete", "running", "fp", time.time()))
    store.step_finished(third.id, "deploy", "destroyed", remove_resource=True)
    assert store.resources() == {}


def test_runs_left_running_are_marked_interrupted(make_store):
    store = make_store()
    run = store.begin_run("demo", "local", "c")
    store.step_started(StepRun(run.id, "train", "training", "run", "running", "fp", time.time()))
    assert make_store().mark_interrupted() == [run.id]
    assert store.runs()[0].status == "interrupted"
    assert store.step_runs(run.id)[0].error == "the run was killed while this step ran"
    assert store.mark_interrupted() == []


def test_live_model_lineage(make_store):
    store = make_store()
    store.set_live(LiveModel("deploy", 1, "m1", {"acc": 0.8}, "d1", 100.0, reason="new"))
    store.set_live(LiveModel("deploy", 2, "m2", {"acc": 0.9}, "d2", 200.0, reason="better"))
    store.set_live(LiveModel("other", 2, "x", {}, "", 200.0))
    lineage = store.live_models("deploy")
    assert [(m.model, m.since, m.until) for m in lineage] == [("m2", 200.0, None), ("m1", 100.0, 200.0)]
    assert len(store.live_models()) == 3


def test_lock_is_exclusive_and_names_its_holder(make_store):
    store, other = make_store(), make_store()
    with store.lock("python -m orchestrator run p.yaml"):
        with pytest.raises(LockHeld) as info, other.lock("second"):
            pass
        assert info.value.holder["command"] == "python -m orchestrator run p.yaml"
        assert "python -m orchestrator run p.yaml (pid " in str(info.value)
        assert other.lock_holder()["command"] == "python -m orchestrator run p.yaml"
    with other.lock("second"):  # released on exit
        pass
    assert store.lock_holder() is None


def test_two_runs_racing_for_the_lock_never_both_win(make_store):
    for _ in range(10):
        barrier = threading.Barrier(2)
        winners, losers = [], []

        def contender(name, barrier=barrier, winners=winners, losers=losers):
            store = make_store()
            barrier.wait()
            try:
                with store.lock(name):
                    winners.append(name)
                    deadline = time.monotonic() + 5
                    while not losers and time.monotonic() < deadline:  # hold it until the other has tried
                        time.sleep(0.01)
            except LockHeld:
                losers.append(name)

        threads = [threading.Thread(target=contender, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert len(winners) == 1 and len(losers) == 1, (winners, losers)


KILLED_WRITER = """
import sys, time
from orchestrator.state.base import StepRun
kind, where = sys.argv[1], sys.argv[2]
if kind == "sqlite":
    from orchestrator.state.sqlite import SqliteStore
    store = SqliteStore(__import__("pathlib").Path(where))
else:
    from orchestrator.state.s3 import S3Store
    store = S3Store("team-state", "pipelines", "demo", "us-east-1")
print("ready", flush=True)
while True:
    run = store.begin_run("demo", "local", "writer")
    for step in ("train", "deploy", "api"):
        store.step_started(StepRun(run.id, step, "endpoint", "run", "running", "fp", time.time()))
        store.step_finished(run.id, step, "succeeded", outputs={"n": run.id})
    store.finish_run(run.id, "succeeded")
    print("finished", run.id, flush=True)
"""


def test_a_writer_killed_mid_write_leaves_consistent_state(make_store, tmp_path, request):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    kind = request.node.callspec.params["make_store"]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, kind, str(tmp_path / "state")],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    for _ in range(2):  # two whole runs written, however slow the machine; then a kill at any point of the third
        assert proc.stdout.readline().startswith("finished")
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)

    store = make_store()
    runs = store.runs(limit=1000)
    assert len(runs) >= 2  # it really was writing
    for run in runs[1:]:  # every run before the last one is complete
        assert run.status == "succeeded"
        assert [a.status for a in store.step_runs(run.id)] == ["succeeded"] * 3
    last = runs[0]
    assert all(a.status in ("running", "succeeded") for a in store.step_runs(last.id))
    # the state is still writable, and the interrupted run is found
    assert store.mark_interrupted() in ([], [last.id])
    store.begin_run("demo", "local", "after the kill")


def test_serial_grows_with_every_write(make_store):
    store = make_store()
    before = store.serial()
    run = store.begin_run("demo", "local", "c")
    store.finish_run(run.id, "succeeded")
    assert store.serial() == before + 2
