"""Every way a local training job can fail says what happened and what to do."""

from __future__ import annotations

import os
import time

import pytest

from orchestrator.targets.base import StepFailed
from orchestrator.targets.local.training.job import run_training

from .processes import wait_until_gone

FAILING_SCRIPT = r"""
    import os, sys
    for number in range(30):
        print(f"stderr line {number}", file=sys.stderr)
    print("a normal line on stdout")
    with open("/".join([os.environ["SM_OUTPUT_DIR"], "failure"]), "w") as handle:
        handle.write("ValueError: C must be positive" + "x" * 2000)
    sys.exit(1)
"""


def test_a_failing_script_shows_its_failure_file_and_the_tail_of_stderr(project):
    project.write("train.py", FAILING_SCRIPT)
    step = project.step(entry_point="train.py")

    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)

    assert str(failed.value) == "training script exited with status 1"
    detail = failed.value.detail
    reason, rest = detail.split("\n", 1)
    assert reason == "Failure reason (output/failure): ValueError: C must be positive" + "x" * (1024 - 30)
    tail = [f"  stderr line {number}" for number in range(10, 30)]
    log = ".orchestrator/local/jobs/movie-reviews-train-0f1e2d3c4b5a/training.log"
    assert rest == "\n".join(["Last 20 lines of stderr:", *tail, f"Full log: {log}"])
    assert failed.value.details["exit_code"] == 1
    assert failed.value.details["job_name"] == "movie-reviews-train-0f1e2d3c4b5a"
    assert not (project.home / "artifacts").exists()


def test_a_crash_without_a_failure_file_still_shows_the_traceback(project):
    project.write("train.py", "raise RuntimeError('out of memory, sort of')\n")
    step = project.step(entry_point="train.py")

    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)

    assert str(failed.value) == "training script exited with status 1"
    assert failed.value.detail.startswith("Last 4 lines of stderr:\n  Traceback (most recent call last):")
    assert "  RuntimeError: out of memory, sort of\nFull log: " in failed.value.detail


def test_a_script_killed_by_a_signal_says_so(project):
    project.write("train.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    step = project.step(entry_point="train.py")
    with pytest.raises(StepFailed, match=r"^training script was killed by SIGKILL$"):
        run_training(step, project.context(step), project.home)


def test_an_empty_model_dir_fails_the_step(project):
    project.write("train.py", "print('trained, but saved nothing')\n")
    step = project.step(entry_point="train.py")

    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)

    assert str(failed.value) == "the script wrote nothing to SM_MODEL_DIR"
    assert failed.value.detail.startswith("Save the model under os.environ['SM_MODEL_DIR'] (")
    assert "only that folder becomes model.tar.gz" in failed.value.detail


def test_a_job_past_max_runtime_is_stopped_with_everything_it_started(project):
    project.write(
        "train.py",
        r"""
        import subprocess, sys, time
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open("helper.pid", "w").write(str(helper.pid))
        print("training forever", flush=True)
        time.sleep(60)
    """,
    )
    step = project.step(entry_point="train.py", max_runtime_s=1)
    started = time.monotonic()

    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)

    assert time.monotonic() - started < 10
    assert str(failed.value) == "training job movie-reviews-train-0f1e2d3c4b5a stopped after 1 s (max_runtime_s)"
    assert project.reporter.lines == ["training forever"]
    assert wait_until_gone(int((project.root / "helper.pid").read_text()))


def test_a_missing_input_fails_before_anything_runs(project):
    project.write("train.py", "raise SystemExit('must not run')\n")
    step = project.step(entry_point="train.py", inputs={"train": "data/missing.csv"})

    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)

    assert str(failed.value) == "input channel 'train': data/missing.csv does not exist"
    assert failed.value.detail == (
        f"Looked for {project.root / 'data' / 'missing.csv'}. Paths in the spec are relative to the spec file."
    )
    assert not (project.home / "jobs").exists()


def test_an_s3_input_missing_from_the_local_s3_fails_with_its_key(project):
    project.write("train.py", "")
    step = project.step(entry_point="train.py", inputs={"train": "s3://my-bucket/reviews/"})

    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)

    assert str(failed.value) == "input channel 'train': no object in the local S3 at s3://my-bucket/reviews/"
    assert failed.value.detail == (
        "Hint: put the data there first (boto3 or `aws s3 cp --endpoint-url <the local S3's URL> FILE "
        "s3://my-bucket/reviews/`), or name a file beside the spec instead; a step's own outputs are there once it ran."
    )
    assert not (project.home / "jobs").exists()


def test_custom_images_need_docker(project):
    step = project.step(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1", framework=None)
    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)
    assert str(failed.value) == (
        "step 'train' uses a custom image (123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1), which needs Docker; "
        "the local target runs scripts without containers"
    )
    assert failed.value.detail == "use framework: or algorithm: for local runs, or run this pipeline with target: aws"


def test_a_builtin_algorithm_runs_its_local_stand_in_and_its_failure_file_is_reported(project, tmp_path):
    """knn needs k, predictor_type, feature_dim and sample_size: without k the job fails like SageMaker's."""
    data = project.write("data/train.csv", "".join(f"{i % 2},{i},{i * 2}\n" for i in range(40)))
    step = project.step(
        algorithm="knn",
        framework=None,
        entry_point=None,
        inputs={"train": str(data.relative_to(project.root))},
        hyperparameters={"predictor_type": "classifier", "feature_dim": 2, "sample_size": 40},
    )
    with pytest.raises(StepFailed) as failed:
        run_training(step, project.context(step), project.home)
    assert str(failed.value) == "training script exited with status 1"
    assert "Failure reason (output/failure): ClientError:" in failed.value.detail
    assert "k" in failed.value.detail

    step = project.step(
        algorithm="knn",
        framework=None,
        entry_point=None,
        inputs={"train": str(data.relative_to(project.root))},
        hyperparameters={"k": 3, "predictor_type": "classifier", "feature_dim": 2, "sample_size": 40},
    )
    result = run_training(step, project.context(step), project.home)
    assert result.outputs["model"].endswith("/model.tar.gz")


def test_a_missing_entry_point_is_named(project):
    step = project.step(entry_point="models/train.py")
    with pytest.raises(StepFailed, match=r"^entry_point models/train.py does not exist$"):
        run_training(step, project.context(step), project.home)


def test_an_entry_point_outside_source_dir_is_refused(project):
    project.write("train.py", "")
    (project.root / "lib").mkdir()
    step = project.step(entry_point="train.py", source_dir="lib")
    with pytest.raises(StepFailed, match=r"^entry_point train.py is not inside source_dir lib$"):
        run_training(step, project.context(step), project.home)


def test_a_channel_name_cannot_escape_the_data_folder(project):
    project.write("train.py", "")
    step = project.step(entry_point="train.py", inputs={"../escape": "train.py"})
    with pytest.raises(StepFailed, match=r"^input channel name '\.\./escape' is not valid$"):
        run_training(step, project.context(step), project.home)
    assert os.path.exists(project.root / "train.py")
