"""Batch transform on the local target: the model's real handlers over every input object,
cut into requests and assembled as SageMaker's SplitType/BatchStrategy/AssembleWith say."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.targets.local.daemon.client import pid_alive
from orchestrator.targets.local.transform.batches import PayloadTooLarge, assemble, mini_batches, records

from .jobs_project import TRAINING, destroy, read_prefix, status, write_project

TRANSFORMS = (
    TRAINING
    + """\
score_lines:
  type: transform
  model: ${steps.train.outputs.model}
  inference: model/inference.py
  input: batch
  split_type: Line
  strategy: MultiRecord
  assemble_with: Line
  accept: text/csv
score_each:
  type: transform
  model: ${steps.train.outputs.model}
  inference: model/inference.py
  input: batch
  split_type: Line
  strategy: SingleRecord
  assemble_with: Line
score_holdout:
  type: transform
  model: ${steps.train.outputs.model}
  inference: model/inference.py
  input: ${steps.train.outputs.data}
"""
)


@pytest.fixture
def project(tmp_path):
    spec = write_project(tmp_path, TRANSFORMS)
    (tmp_path / "batch" / "more").mkdir(parents=True)
    (tmp_path / "batch" / "a.csv").write_text("1,1\n2,2\n\n3,3\n")
    (tmp_path / "batch" / "more" / "b.csv").write_text("10,0")
    try:
        yield spec
    finally:
        destroy(spec)


def test_each_input_object_gets_its_out_file_with_the_models_answers(project, capsys):
    assert main(["run", str(project)]) == 0
    steps = status(project, capsys)
    lines = steps["score_lines"]["outputs"]
    assert lines["data"].startswith("s3://jobs-artifacts/orchestrator/transforms/score_lines/")
    assert lines["data"].endswith("/") and lines["job_name"] in lines["data"]
    # MultiRecord: all three records of a.csv in one request (blank lines are no records); Line: one answer per line
    assert read_prefix(project, lines["data"]) == {"a.csv.out": b"4;3\n8;3\n12;3\n", "more/b.csv.out": b"20;1\n"}
    # SingleRecord: one request per record
    each = read_prefix(project, steps["score_each"]["outputs"]["data"])
    assert each == {"a.csv.out": b"4;1\n8;1\n12;1\n", "more/b.csv.out": b"20;1\n"}
    # SplitType None: the whole object is one request; AssembleWith None: the answer as it came
    holdout = read_prefix(project, steps["score_holdout"]["outputs"]["data"])
    assert holdout == {"holdout.csv.out": b"6;3\n14;3\n22;3"}


def test_nothing_changed_runs_no_transform_again_and_destroy_removes_the_jobs(project, capsys):
    assert main(["run", str(project)]) == 0
    first = status(project, capsys)
    job_dir = project.parent / ".orchestrator" / "local" / "jobs" / first["score_lines"]["outputs"]["job_name"]
    assert job_dir.is_dir()
    assert main(["run", str(project)]) == 0
    again = status(project, capsys)
    assert again["score_lines"]["run"] == first["score_lines"]["run"]
    (project.parent / "batch" / "a.csv").write_text("1,1\n")  # new data: the transform runs again
    assert main(["run", str(project)]) == 0
    changed = status(project, capsys)
    assert changed["score_lines"]["run"] != first["score_lines"]["run"]
    assert changed["score_each"]["run"] != first["score_each"]["run"]
    assert changed["score_holdout"]["run"] == first["score_holdout"]["run"]
    assert read_prefix(project, changed["score_lines"]["outputs"]["data"])["a.csv.out"] == b"4;1\n"
    capsys.readouterr()
    assert main(["destroy", str(project), "--yes"]) == 0
    assert "transform score_lines: removed job" in capsys.readouterr().err
    assert not (
        project.parent / ".orchestrator" / "local" / "jobs" / changed["score_lines"]["outputs"]["job_name"]
    ).exists()


def test_a_record_larger_than_max_payload_fails_the_job_and_stores_nothing(tmp_path, capsys):
    spec = write_project(
        tmp_path,
        TRAINING
        + """\
score:
  type: transform
  model: ${steps.train.outputs.model}
  inference: model/inference.py
  input: big.csv
  max_payload_mb: 1
""",
    )
    (tmp_path / "big.csv").write_text("1," * (600 * 1024) + "1\n")  # one record of 1.2 MB
    try:
        assert main(["run", str(spec)]) == 1
        err = capsys.readouterr().err
        assert "big.csv: record 1 is 1228802 bytes, more than max_payload_mb (1 MB)" in err
        assert status(spec, capsys)["score"]["status"] == "failed"
    finally:
        destroy(spec)


def test_a_model_error_fails_the_job_with_the_handlers_message(tmp_path, capsys):
    spec = write_project(
        tmp_path,
        TRAINING
        + """\
score:
  type: transform
  model: ${steps.train.outputs.model}
  inference: model/inference.py
  input: data/train.csv
  content_type: application/json
""",
    )
    try:
        assert main(["run", str(spec)]) == 1
        assert "train.csv: the model answered 400: unsupported content type application/json" in capsys.readouterr().err
    finally:
        destroy(spec)


def test_records_batches_and_assembly_follow_sagemakers_rules():
    lines = records(b"a\r\nb\n\nc", "Line")
    assert lines == [b"a\r\n", b"b\n", b"c"]
    assert records(b"a\nb\n", "None") == [b"a\nb\n"]
    big = [b"x" * 700_000, b"y" * 700_000, b"z" * 10]
    assert [len(b) for b in mini_batches(big, "MultiRecord", 1)] == [700_000, 700_010]
    assert list(mini_batches(big, "MultiRecord", 0)) == [b"".join(big)]  # 0: no limit
    assert list(mini_batches(lines, "SingleRecord", 6)) == lines
    with pytest.raises(PayloadTooLarge, match="record 2 is 2097152 bytes"):
        list(mini_batches([b"a", b"b" * 2 * 1024 * 1024], "SingleRecord", 1))
    assert b"".join(assemble([b"1", b"2\n"], "Line")) == b"1\n2\n"
    assert b"".join(assemble([b"1", b"2\n"], "None")) == b"12\n"


SLOW_HANDLER = """
import os, pathlib, time


def model_fn(model_dir):
    pathlib.Path(os.environ["MARKS"], str(os.getpid())).write_text("")
    return None


def transform_fn(model, body, content_type, accept):
    time.sleep(120)
    return body
"""


def test_a_transform_job_dies_with_a_killed_run_and_the_next_run_starts_it_clean(tmp_path, capsys):

    marks = tmp_path / "marks"
    marks.mkdir()
    spec = write_project(
        tmp_path,
        TRAINING
        + f"""\
score:
  type: transform
  model: ${{steps.train.outputs.model}}
  inference: model/slow.py
  input: data/train.csv
  environment: {{MARKS: {marks}}}
""",
    )
    (tmp_path / "model" / "slow.py").write_text(SLOW_HANDLER)
    root = Path(__file__).resolve().parents[2]
    run = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", str(spec)],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(marks.iterdir()):
            assert time.monotonic() < deadline and run.poll() is None, "the transform job never started"
            time.sleep(0.1)
        server = int(next(marks.iterdir()).name)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        deadline = time.monotonic() + 10
        while pid_alive(server):
            assert time.monotonic() < deadline, "the transform job outlived the killed run"
            time.sleep(0.1)
        (tmp_path / "model" / "slow.py").write_text(SLOW_HANDLER.replace("time.sleep(120)", "pass"))
        assert main(["run", str(spec)]) == 0
        out = read_prefix(spec, status(spec, capsys)["score"]["outputs"]["data"])
        assert out == {"train.csv.out": b"1,2\n3,4\n"}
    finally:
        if run.poll() is None:
            run.kill()
        destroy(spec)
