"""An endpoint gated on an evaluation: a processing step's report decides, on the local target.

The evaluation job reads the trained model.tar.gz as an input and writes evaluation.json;
its numbers, nested keys joined with dots, are the step's metrics, and
`promote_when: {from: evaluate, ...}` keeps a worse model off the endpoint.
"""

from __future__ import annotations

import json
import urllib.request

TRAIN = r"""
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--quality", type=float)
args = parser.parse_args()
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(str(args.quality))
"""

EVALUATE = r"""
import json, os, tarfile
with tarfile.open("/opt/ml/processing/input/model/model.tar.gz") as tar:
    quality = float(tar.extractfile("model.txt").read())
os.makedirs("/opt/ml/processing/output/evaluation", exist_ok=True)
report = {"metrics": {"accuracy": {"value": quality}, "per_class": [quality, 1 - quality]}, "name": "held-out"}
json.dump(report, open("/opt/ml/processing/output/evaluation/evaluation.json", "w"))
"""

INFERENCE = r"""
import json, os
def model_fn(model_dir):
    return open(os.path.join(model_dir, "model.txt")).read()
def input_fn(body, content_type):
    return body
def predict_fn(data, model):
    return {"quality": float(model)}
def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"""

SPEC = """
name: gated
steps:
  train:
    type: training
    framework: sklearn
    entry_point: train.py
    hyperparameters: {quality: QUALITY}
  evaluate:
    type: processing
    framework: sklearn
    entry_point: evaluate.py
    inputs: {model: "${steps.train.outputs.model}"}
    outputs: [evaluation]
    report: {output: evaluation, file: evaluation.json}
  deploy:
    type: endpoint
    model: ${steps.train.outputs.model}
    framework: sklearn
    inference: serve/inference.py
    instance: {type: ml.m5.large}
    promote_when: {from: evaluate, metric: metrics.accuracy.value, at_least: 0.8, beats_live: true}
"""


def write(project, quality):
    project.write("train.py", TRAIN)
    project.write("evaluate.py", EVALUATE)
    project.write("serve/inference.py", INFERENCE)
    project.write("pipeline.yaml", SPEC.replace("QUALITY", str(quality)))


def served_quality(project) -> float:
    url = project.status()["steps"]["deploy"]["outputs"]["url"]
    request = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["quality"]


def test_the_report_gates_the_endpoint(cli_project):
    write(cli_project, 0.9)
    first = cli_project.cli("run", "pipeline.yaml")
    assert first.returncode == 0, first.stderr
    steps = cli_project.status()["steps"]
    assert steps["evaluate"]["metrics"] == {
        "metrics.accuracy.value": 0.9,
        "metrics.per_class[0]": 0.9,
        "metrics.per_class[1]": 0.09999999999999998,
    }
    assert "promoting: metrics.accuracy.value 0.9 passes; no live model to beat" in first.stderr
    assert served_quality(cli_project) == 0.9

    write(cli_project, 0.85)  # passes the floor, but does not beat the live model's evaluation
    second = cli_project.cli("run", "pipeline.yaml")
    assert second.returncode == 0, second.stderr
    assert "not promoted: metrics.accuracy.value 0.85 does not beat the live model's 0.9" in second.stderr
    assert served_quality(cli_project) == 0.9

    write(cli_project, 0.95)
    third = cli_project.cli("run", "pipeline.yaml")
    assert third.returncode == 0, third.stderr
    assert "promoting: metrics.accuracy.value 0.95 beats the live model's 0.9" in third.stderr
    assert served_quality(cli_project) == 0.95


def test_validate_says_where_a_gate_names_no_report(cli_project):
    write(cli_project, 0.9)
    spec = cli_project.root / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("    report: {output: evaluation, file: evaluation.json}\n", ""))
    done = cli_project.cli("validate", "pipeline.yaml")
    assert done.returncode == 2
    assert (
        "pipeline.yaml:20:26: error: steps.deploy.promote_when.from: processing step 'evaluate' has no report "
        "to read the metric from" in done.stderr
    )
    spec.write_text(spec.read_text().replace("from: evaluate", "from: evaluat"))
    done = cli_project.cli("validate", "pipeline.yaml")
    assert "steps.deploy.promote_when.from: promote_when.from names no step 'evaluat'" in done.stderr
    assert "did you mean 'evaluate'" in done.stderr
    spec.write_text(spec.read_text().replace("from: evaluat", "from: train"))
    done = cli_project.cli("validate", "pipeline.yaml")
    assert "names 'train', a training step; it must be a processing step with a report" in done.stderr
