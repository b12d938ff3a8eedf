"""The run state survives kills, and two runs of one pipeline never interleave."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.cli import main
from orchestrator.state.base import SCHEMA_VERSION
from orchestrator.state.sqlite import SqliteStore
from tests.fakes import FakeTarget, calls

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; from orchestrator.cli import main; from tests.fakes import FakeTarget; "
    "sys.exit(main(sys.argv[1:], targets={'local': FakeTarget}))"
)


def start_run(project: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, "run", str(project / "pipeline.yaml")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_hang(state: Path, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c["op"] == "hang" for c in calls(state)):
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    raise AssertionError("the run never reached the hanging step")


def test_kill_mid_step_keeps_state_consistent_and_next_run_resumes(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "hang-deploy").write_text("")
    proc = start_run(project)
    try:
        wait_for_hang(state, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    store = SqliteStore(state)
    run = store.last_run()
    assert run.status == "running"  # the process died: nobody could mark it
    assert {a.step: a.status for a in store.step_runs(run.id)} == {"train": "succeeded", "deploy": "running"}
    assert set(store.resources()) == {"train"}  # train's result was committed before deploy started
    store.close()

    (state / "hang-deploy").unlink()
    assert main(["run", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 0
    err = capsys.readouterr().err
    assert "warning: run 1 was killed before it finished; resuming where it stopped" in err
    assert "resumes: it interrupted in run 1" in err
    ops = [c["op"] for c in calls(state) if c["op"] != "hang"]
    assert ops == ["train", "deploy", "deploy", "api", "website"]  # train was not paid for twice
    store = SqliteStore(state)
    assert store.runs()[1].status == "interrupted"
    assert store.step_runs(1)[1].error == "the run was killed while this step ran"


def test_second_run_is_refused_while_the_first_holds_the_lock(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "hang-train").write_text("")
    proc = start_run(project)
    try:
        wait_for_hang(state, proc)
        assert main(["run", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: this pipeline is locked: python -m orchestrator run ")
        assert f"(pid {proc.pid} on " in err and "has held the lock since 20" in err
        assert "hint: wait for that run to finish; the lock is released when it exits" in err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    # the kernel released the dead holder's lock: the next run goes ahead
    (state / "hang-train").unlink()
    assert main(["run", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 0


def test_state_records_schema_version_and_a_serial(project):
    assert main(["run", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 0
    store = SqliteStore(project / ".orchestrator")
    conn = store._db()
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert store.serial() > 8  # every record is its own transaction
    assert (project / ".orchestrator" / ".gitignore").read_text() == "*\n"


def test_state_from_a_newer_version_is_refused(project, capsys):
    assert main(["run", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 0
    store = SqliteStore(project / ".orchestrator")
    store._db().execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    store.close()
    capsys.readouterr()
    assert main(["status", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 2
    assert (
        f"has state schema version 99, newer than this orchestrator understands ({SCHEMA_VERSION}); "
        "upgrade orchestrator\n  hint: pip install --upgrade orchestrator, or run the version that wrote this state"
        in capsys.readouterr().err
    )


def test_state_of_schema_1_is_upgraded_in_place(project, capsys):
    """Schema 1 kept a resource's target and resolved-inputs digest inside its details."""
    assert main(["run", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 0
    conn = SqliteStore(project / ".orchestrator")._db()
    before = {r["step"]: (r["target"], r["resolved"]) for r in conn.execute("SELECT * FROM resources")}
    for step, (target, resolved) in before.items():
        details = json.dumps({"target": target, "resolved": resolved, "port": 1})
        conn.execute("UPDATE resources SET details=?, target='', resolved='' WHERE step=?", (details, step))
    conn.execute("ALTER TABLE resources DROP COLUMN target")
    conn.execute("ALTER TABLE resources DROP COLUMN resolved")
    conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    conn.close()

    store = SqliteStore(project / ".orchestrator")
    resources = store.resources()
    assert {step: (r.target, r.resolved) for step, r in resources.items()} == before
    assert all(r.details == {"port": 1} for r in resources.values())
    assert store._db().execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "2"
    store.close()
    capsys.readouterr()
    assert main(["plan", str(project / "pipeline.yaml")], targets={"local": FakeTarget}) == 0
    assert "Nothing to do: every step is up to date." in capsys.readouterr().out


def test_failed_run_json_is_stable(project, capsys):
    state = project / ".orchestrator"
    state.mkdir()
    (state / "fail-train").write_text("bad data")
    assert main(["run", str(project / "pipeline.yaml"), "--json"], targets={"local": FakeTarget}) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["status"] == "failed"
    assert doc["steps"]["train"]["error"] == "bad data\nlast lines of the log"
