"""kill -9 of `run` during a local job: the job dies with it, the next run builds the result alone.

A local job is a child of the command, as a SageMaker job is not: one that outlived a
killed command would race the resumed run's job in the same folder (a model mixed from
two processes). So the job's watchdog stops it when the command dies, and a record of
its process group lets the next run, or destroy, stop whatever survived.
"""

from __future__ import annotations

import os
import signal

import pytest

from .kill_nine import Trial, is_running, kill_nine, stop_daemon, wait_until_gone


@pytest.fixture(params=["training", "processing"])
def trial(request, tmp_path):
    trial = Trial(tmp_path / "project", request.param)
    trial.write()
    yield trial
    stop_daemon(trial)


def test_the_job_dies_with_the_command_and_the_next_run_builds_it_alone(trial):
    killed = []
    for attempt in range(2):  # a few trials, each a real kill -9 of the CLI mid-job
        run = trial.start_run()
        job = trial.wait_for_job(trial.pids())
        kill_nine(run)
        assert wait_until_gone(job), f"attempt {attempt}: the job outlived its command"
        assert wait_until_gone(os.getpgid(job) if is_running(job) else job)
        killed.append(job)
    trial.release()
    done = trial.cli("run")
    assert done.returncode == 0, done.stderr
    [pid, again] = trial.result_pids()
    assert pid == again  # both halves from one process
    assert int(pid) not in killed and not any(is_running(p) for p in killed)
    assert "left running by an earlier run" not in done.stderr  # the watchdog had stopped it already


def test_a_job_that_survived_its_watchdog_is_stopped_by_the_next_run(trial):
    run = trial.start_run()
    job = trial.wait_for_job(set())
    os.kill(os.getpgid(job), signal.SIGKILL)  # the watchdog leads the group: kill it and the command at once
    kill_nine(run)
    assert not wait_until_gone(job, timeout_s=1.0)  # orphaned for real now
    resumed = trial.start_run(capture=True)
    trial.wait_for_job({job})
    assert not is_running(job)  # stopped before the new job started
    trial.release()
    _, stderr = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, stderr
    assert "left running by an earlier run" in stderr
    [first, second] = trial.result_pids()
    assert first == second


def test_destroy_stops_a_job_still_running(trial):
    trial.release()
    assert trial.cli("run").returncode == 0  # recorded: destroy has the step to remove
    (trial.root / "release").unlink()
    (trial.root / "job.py").write_text((trial.root / "job.py").read_text() + "\n# changed\n")
    run = trial.start_run()
    job = trial.wait_for_job(trial.pids())
    os.kill(os.getpgid(job), signal.SIGKILL)
    kill_nine(run)
    done = trial.cli("destroy", "--yes")
    assert done.returncode == 0, done.stderr
    assert wait_until_gone(job, timeout_s=1.0), "destroy left the job running"
    assert "stopped running job" in done.stdout + done.stderr
