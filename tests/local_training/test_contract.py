"""The script sees what a SageMaker framework container would show it."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import joblib

from orchestrator.targets.local.training.job import run_training
from orchestrator.targets.local.training.job_contract import job_name

from .conftest import stored

CONTRACT_SCRIPT = r"""
    import json, os, sys

    job = os.environ["TRAINING_JOB_NAME"]
    ml = os.path.dirname(os.environ["SM_MODEL_DIR"])
    expected_paths = {
        "SM_MODEL_DIR": f"{ml}/model",
        "SM_INPUT_DIR": f"{ml}/input",
        "SM_INPUT_CONFIG_DIR": f"{ml}/input/config",
        "SM_OUTPUT_DIR": f"{ml}/output",
        "SM_OUTPUT_DATA_DIR": f"{ml}/output/data",
        "SM_CHANNEL_TRAIN": f"{ml}/input/data/train",
        "SM_CHANNEL_EXTRA": f"{ml}/input/data/extra",
    }
    for key, path in expected_paths.items():
        assert os.environ[key] == path, (key, os.environ[key], path)
        assert os.path.isdir(path), key
    assert os.path.isfile(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "reviews.csv"))
    assert os.path.isfile(os.path.join(os.environ["SM_CHANNEL_EXTRA"], "nested", "vocab.txt"))
    assert json.loads(os.environ["SM_CHANNELS"]) == ["extra", "train"]
    assert json.loads(os.environ["SM_HOSTS"]) == ["algo-1"] and os.environ["SM_CURRENT_HOST"] == "algo-1"
    assert int(os.environ["SM_NUM_CPUS"]) >= 1 and os.environ["SM_NUM_GPUS"] == "0"
    training_env = json.loads(os.environ["SM_TRAINING_ENV"])
    assert training_env["job_name"] == job and training_env["model_dir"] == os.environ["SM_MODEL_DIR"]
    assert training_env["channel_input_dirs"]["train"] == os.environ["SM_CHANNEL_TRAIN"]
    assert "STRAY_SETTING" not in "".join(os.environ)  # the parent's SM_ variables do not leak in

    import helpers  # a sibling module in source_dir is importable
    from sentiment import features  # so is a package in source_dir

    seen = {
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "job": job,
        "hps": json.loads(os.environ["SM_HPS"]),
        "hp_env": {k: v for k, v in os.environ.items() if k.startswith("SM_HP_")},
        "custom": os.environ["CUSTOM_SETTING"],
        "config": {
            name: json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], name)))
            for name in ("hyperparameters.json", "inputdataconfig.json", "resourceconfig.json")
        },
    }
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as handle:
        json.dump(seen, handle)
    os.makedirs(os.path.join(os.environ["SM_MODEL_DIR"], "code"))
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w") as handle:
        handle.write("evaluation report\n")
"""


def read_member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def test_the_script_runs_under_the_training_contract(project, reviews_csv, monkeypatch):
    monkeypatch.setenv("SM_STRAY_SETTING", "from the parent")
    project.write("models/train.py", CONTRACT_SCRIPT)
    project.write("models/helpers.py", "VALUE = 1\n")
    project.write("models/sentiment/__init__.py", "")
    project.write("models/sentiment/features.py", "")
    project.write("data/extra/nested/vocab.txt", "good\nbad\n")
    step = project.step(
        entry_point="models/train.py",
        source_dir="models",
        inputs={"train": "data/reviews.csv", "extra": "data/extra"},
        hyperparameters={"C": 2.0, "epochs": 3, "solver": "lbfgs", "verbose": True, "k": 5},
        instance={"type": "ml.m5.xlarge"},
        environment={"CUSTOM_SETTING": "on"},
    )
    ctx = project.context(step, fingerprint="a1b2c3d4e5f6a7b8c9d0")

    result = run_training(step, ctx, project.home)

    name = "movie-reviews-train-a1b2c3d4e5f6"
    assert result.outputs["job_name"] == name
    model_uri = result.outputs["model"]
    assert model_uri.startswith("s3://movie-reviews-artifacts/orchestrator/artifacts/")
    assert model_uri.endswith(f"/sha256/{result.details['artifact_sha256']}/model.tar.gz")
    archive = stored(project.home, model_uri)
    seen = json.loads(read_member(archive, "seen.json"))

    assert seen["job"] == name
    assert seen["cwd"] == str(project.root / "models")
    # One-letter names get a single dash, as SageMaker's training toolkit passes them.
    assert seen["argv"] == ["-C", "2.0", "--epochs", "3", "-k", "5", "--solver", "lbfgs", "--verbose", "True"]
    assert seen["hps"] == {"C": 2.0, "epochs": 3, "solver": "lbfgs", "verbose": True, "k": 5}
    assert seen["hp_env"] == {
        "SM_HP_C": "2.0",
        "SM_HP_EPOCHS": "3",
        "SM_HP_SOLVER": "lbfgs",
        "SM_HP_VERBOSE": "true",
        "SM_HP_K": "5",
    }
    assert seen["custom"] == "on"
    # SageMaker's script mode sends every hyperparameter as a JSON-encoded string.
    assert seen["config"]["hyperparameters.json"] == {
        "C": "2.0",
        "epochs": "3",
        "solver": '"lbfgs"',
        "verbose": "true",
        "k": "5",
    }
    assert seen["config"]["inputdataconfig.json"] == {
        channel: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
        for channel in ("train", "extra")
    }
    resources = seen["config"]["resourceconfig.json"]
    assert resources["current_host"] == "algo-1" and resources["hosts"] == ["algo-1"]
    assert resources["current_instance_type"] == "ml.m5.xlarge"

    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["code", "seen.json"]
    data = result.outputs["data"]
    assert data.endswith(f"/sha256/{result.details['output_sha256']}/data/")  # a prefix, as on AWS
    assert stored(project.home, data + "report.txt").read_bytes() == b"evaluation report\n"

    job_dir = project.home / "jobs" / name
    assert result.details["log"] == f".orchestrator/local/jobs/{name}/training.log"
    assert (project.root / result.details["log"]).is_file()
    assert not any((job_dir / "input" / "data").iterdir()), "the channel copies are removed after the run"
    assert reviews_csv.is_file(), "the original input stays"
    assert project.reporter.statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]


def test_a_real_model_trains_and_its_message_names_the_metric(project, reviews_csv, sklearn_script):
    step = project.step(
        entry_point=sklearn_script(),
        inputs={"train": "data/reviews.csv"},
        hyperparameters={"C": 2.0},
        metrics=[{"name": "accuracy", "regex": r"accuracy=([0-9.]+)"}],
    )
    result = run_training(step, project.context(step), project.home)

    assert result.metrics["accuracy"] > 0.8
    assert result.message.startswith("trained in ")
    assert result.message.endswith(f" s; accuracy={result.metrics['accuracy']:.4g}")
    assert result.details["duration_s"] > 0
    archive = stored(project.home, result.outputs["model"])
    model = joblib.load(io.BytesIO(read_member(archive, "model.joblib")))
    assert model.C == 2.0


def test_job_names_are_valid_sagemaker_names():
    assert job_name("movie-reviews", "train", "0f1e2d3c4b5a6978") == "movie-reviews-train-0f1e2d3c4b5a"
    assert job_name("p", "train_model", "abc") == "p-train-model-abc"
    long = job_name("a" * 40, "b" * 40, "f" * 64)
    assert len(long) == 63 and long.endswith("-ffffffffffff")
    assert job_name("a" * 50, "_x", "1" * 12).count("--") == 0
    for name in (long, job_name("x", "y", ""), job_name("p", "s_", "12")):
        assert 1 <= len(name) <= 63
        assert name[0].isalnum() and name[-1].isalnum()
        assert all(char.isalnum() or char == "-" for char in name)
