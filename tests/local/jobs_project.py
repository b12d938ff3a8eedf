"""A small project for the local target's batch transform and tuning tests: a real training
script (with a hyperparameter that decides its score), real inference handlers, real runs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from orchestrator.cli import main
from orchestrator.targets.local.storage.layout import S3Layout, split_s3_uri

TRAIN = """
import argparse, json, os, pathlib

parser = argparse.ArgumentParser()
parser.add_argument("--scale", type=float, default=1.0)
parser.add_argument("--kind", default="plain")
args, _ = parser.parse_known_args()
if args.kind == "broken":
    raise SystemExit("broken on purpose")
rows = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"], "train.csv").read_text().split()
model = pathlib.Path(os.environ["SM_MODEL_DIR"])
(model / "model.json").write_text(json.dumps({"scale": args.scale, "kind": args.kind, "rows": len(rows)}))
out = pathlib.Path(os.environ["SM_OUTPUT_DATA_DIR"])
(out / "holdout.csv").write_text("1,2\\n3,4\\n5,6\\n")
bonus = 0.5 if args.kind == "fancy" else 0.0
print(f"score={-abs(args.scale - 3.0) + bonus:.4f}")
"""

INFERENCE = """
import json, os


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        return json.load(f)


def input_fn(body, content_type):
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type}")
    return [[float(x) for x in line.split(",")] for line in body.decode().splitlines() if line.strip()]


def predict_fn(rows, model):
    return [sum(row) * model["scale"] for row in rows]


def output_fn(predictions, accept):
    # each answer says how many records its request carried, so tests see the batching
    return "\\n".join(f"{p:g};{len(predictions)}" for p in predictions), "text/csv"
"""


def write_project(root: Path, steps: str) -> Path:
    """The project's files and a pipeline of `steps` (YAML under `steps:`); returns the spec."""
    (root / "model").mkdir(parents=True, exist_ok=True)
    (root / "model" / "train.py").write_text(TRAIN)
    (root / "model" / "inference.py").write_text(INFERENCE)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "train.csv").write_text("1,2\n3,4\n")
    spec = root / "pipeline.yaml"
    spec.write_text("version: 1\nname: jobs\ntarget: local\nsteps:\n" + textwrap.indent(textwrap.dedent(steps), "  "))
    return spec


TRAINING = """\
train:
  type: training
  framework: sklearn
  entry_point: model/train.py
  inputs: {train: data/train.csv}
  hyperparameters: {scale: 2}
  metrics: [{name: score, regex: 'score=([-0-9.]+)'}]
"""


def status(spec: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["status", str(spec), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["steps"]


def read_prefix(spec: Path, uri: str) -> dict[str, bytes]:
    """Every object under an s3:// prefix of the project's local S3, by key below the prefix."""
    layout = S3Layout(spec.parent / ".orchestrator" / "local" / "s3")
    bucket, prefix = split_s3_uri(uri)
    found = {}
    for meta in layout.listing(bucket, prefix):
        found[meta["key"][len(prefix) :]] = layout.object_file(bucket, meta["key"]).read_bytes()
    return found


def destroy(spec: Path) -> None:
    main(["destroy", str(spec), "--yes"])
