"""A processing step runs the user's script under SageMaker Processing's contract, on the local target.

The script reads its inputs and config files by the container's literal paths, writes
outputs a training step then reads through `${steps.prepare.outputs.train}`, and the
published outputs are s3:// prefixes of the local S3.
"""

from __future__ import annotations

import json

PREPARE = r"""
import json, os, sys
from pathlib import Path

config = json.load(open("/opt/ml/config/processingjobconfig.json"))
resources = json.load(open("/opt/ml/config/resourceconfig.json"))
rows = Path("/opt/ml/processing/input/raw/data.csv").read_text().splitlines()
os.makedirs("/opt/ml/processing/output/train/part", exist_ok=True)
with open("/opt/ml/processing/output/train/part/train.csv", "w") as f:
    f.write("\n".join(rows[: len(rows) // 2]) + "\n")
Path("/opt/ml/processing/output/test/test.csv").write_text("\n".join(rows[len(rows) // 2 :]) + "\n")
seen = {
    "argv": sys.argv[1:],
    "script": sys.argv[0],
    "config": config,
    "resources": resources,
    "inputs": sorted(os.listdir("/opt/ml/processing/input")),
    "code": sorted(os.listdir("/opt/ml/processing/input/code")),
    "mode": os.environ.get("MODE"),
    "s3": "AWS_ENDPOINT_URL_S3" in os.environ,
}
Path("/opt/ml/processing/output/test/seen.json").write_text(json.dumps(seen))
print("prepared", len(rows), "rows")
"""

TRAIN = r"""
import os
files = sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(",".join(files))
"""

SPEC = """
name: prep
steps:
  prepare:
    type: processing
    framework: sklearn
    entry_point: code/prepare.py
    arguments: [--ratio, "0.5"]
    inputs: {raw: data.csv}
    outputs: [train, test]
    environment: {MODE: split}
    instance: {type: ml.t3.medium}
    max_runtime_s: 600
  train:
    type: training
    framework: sklearn
    entry_point: train.py
    inputs: {train: "${steps.prepare.outputs.train}"}
"""


def make(project):
    project.write("code/prepare.py", PREPARE)
    project.write("code/helper.py", "x = 1\n")
    project.write("train.py", TRAIN)
    project.write("data.csv", "".join(f"{i},{i * 2}\n" for i in range(10)))
    project.write("pipeline.yaml", SPEC)


def test_the_script_sees_sagemaker_processing_paths_and_config(cli_project):
    make(cli_project)
    done = cli_project.cli("run", "pipeline.yaml")
    assert done.returncode == 0, done.stderr + done.stdout

    steps = cli_project.status()["steps"]
    outputs = steps["prepare"]["outputs"]
    assert outputs["train"].startswith("s3://") and outputs["train"].endswith("/train/")
    assert outputs["test"].startswith("s3://") and outputs["test"].endswith("/test/")
    job = cli_project.home / "jobs" / outputs["job_name"]
    seen = json.loads((job / "processing" / "output" / "test" / "seen.json").read_text())
    assert seen["argv"] == ["--ratio", "0.5"]
    assert seen["script"] == "/opt/ml/processing/input/code/prepare.py"
    assert seen["code"] == ["prepare.py"]  # the framework processor ships the script alone without source_dir
    assert seen["inputs"] == ["code", "raw"]
    assert seen["mode"] == "split" and seen["s3"] is True
    assert seen["resources"] == {"current_host": "algo-1", "hosts": ["algo-1"]}
    config = seen["config"]
    assert config["ProcessingJobName"] == outputs["job_name"]
    assert config["AppSpecification"]["ContainerEntrypoint"] == ["python3", "/opt/ml/processing/input/code/prepare.py"]
    assert config["AppSpecification"]["ContainerArguments"] == ["--ratio", "0.5"]
    assert config["ProcessingInputs"][0]["InputName"] == "raw"
    assert config["ProcessingInputs"][0]["S3Input"]["LocalPath"] == "/opt/ml/processing/input/raw"
    assert [o["S3Output"]["LocalPath"] for o in config["ProcessingOutputConfig"]["Outputs"]] == [
        "/opt/ml/processing/output/train",
        "/opt/ml/processing/output/test",
    ]
    assert config["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.t3.medium"
    assert config["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert config["Environment"] == {"MODE": "split"}
    # the training channel got the processing output's files, by their names under the prefix
    trained = steps["train"]
    assert trained["status"] == "succeeded"
    assert "prepared 10 rows" in (job / "processing.log").read_text()


def test_nothing_changed_means_no_second_job_and_a_changed_script_runs_again(cli_project):
    make(cli_project)
    assert cli_project.cli("run", "pipeline.yaml").returncode == 0
    again = cli_project.cli("plan", "pipeline.yaml")
    assert again.returncode == 0
    assert "prepare" in again.stdout and "up to date" in again.stdout.lower()
    cli_project.write("code/helper.py", "x = 2\n")  # not shipped without source_dir: no change
    assert "up to date" in cli_project.cli("plan", "pipeline.yaml").stdout.lower()
    cli_project.write("code/prepare.py", PREPARE + "\n# changed\n")
    plan = cli_project.cli("plan", "pipeline.yaml").stdout
    assert "prepare" in plan and "code" in plan.lower()


def test_a_failing_script_fails_the_step_with_its_stderr(cli_project):
    make(cli_project)
    cli_project.write("code/prepare.py", "import sys\nprint('bad input', file=sys.stderr)\nsys.exit(3)\n")
    done = cli_project.cli("run", "pipeline.yaml")
    assert done.returncode != 0
    assert "processing script exited with status 3" in done.stderr
    assert "bad input" in done.stderr


LIBRARIES = r"""
import glob, json, os, shutil
from pathlib import Path
import numpy as np
import pandas as pd
from features import scale  # a module of source_dir, shipped beside the script

frame = pd.read_csv("/opt/ml/processing/input/raw/data.csv", header=None)
out = Path("/opt/ml/processing/output/features")
frame.assign(scaled=scale(frame[1])).to_csv(out / "features.csv", index=False)
np.savetxt(str(out / "first.txt"), frame[0].to_numpy())
shutil.copytree("/opt/ml/processing/input/raw", out / "raw-copy")
walked = sorted(name for _, _, names in os.walk("/opt/ml/processing/input") for name in names)
found = sorted(glob.glob("/opt/ml/processing/input/**/*.py", recursive=True))
(out / "seen.json").write_text(json.dumps({"walked": walked, "found": found, "file": __file__}))
"""


def test_libraries_read_and_write_the_container_paths_and_source_dir_ships_whole(cli_project):
    cli_project.write("prep/run.py", LIBRARIES)
    cli_project.write("prep/features.py", "def scale(column):\n    return column / column.max()\n")
    cli_project.write("data.csv", "".join(f"{i},{i * 2}\n" for i in range(1, 5)))
    cli_project.write(
        "pipeline.yaml",
        """
        name: libs
        steps:
          features:
            type: processing
            framework: sklearn
            entry_point: prep/run.py
            source_dir: prep
            inputs: {raw: data.csv}
            outputs: [features]
        """,
    )
    done = cli_project.cli("run", "pipeline.yaml")
    assert done.returncode == 0, done.stderr
    outputs = cli_project.status()["steps"]["features"]["outputs"]
    out = cli_project.home / "jobs" / outputs["job_name"] / "processing" / "output" / "features"
    assert (out / "features.csv").read_text().splitlines()[0] == "0,1,scaled"
    assert (out / "first.txt").read_text().split() == [f"{i:.18e}" for i in (1.0, 2.0, 3.0, 4.0)]
    assert (out / "raw-copy" / "data.csv").is_file()
    seen = json.loads((out / "seen.json").read_text())
    assert seen["walked"] == ["data.csv", "features.py", "run.py"]
    assert seen["found"] == [
        "/opt/ml/processing/input/code/features.py",
        "/opt/ml/processing/input/code/run.py",
    ]
    assert seen["file"] == "/opt/ml/processing/input/code/run.py"
    # published as files under an s3:// prefix of the local S3, read back with the layout the S3 API serves
    from orchestrator.targets.local.storage.layout import S3Layout

    layout = S3Layout(cli_project.home / "s3")
    bucket, _, prefix = outputs["features"].removeprefix("s3://").partition("/")
    keys = sorted(meta["key"].removeprefix(prefix) for meta in layout.listing(bucket, prefix))
    assert keys == ["features.csv", "first.txt", "raw-copy/data.csv", "seen.json"]


def test_max_runtime_stops_the_job(cli_project):
    cli_project.write("slow.py", "import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    cli_project.write(
        "pipeline.yaml",
        """
        name: slow
        steps:
          slow:
            type: processing
            framework: sklearn
            entry_point: slow.py
            max_runtime_s: 1
        """,
    )
    done = cli_project.cli("run", "pipeline.yaml")
    assert done.returncode != 0
    assert "stopped after 1 s (max_runtime_s)" in done.stderr
