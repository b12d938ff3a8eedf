"""What the aws target costs: AWS API calls per run, and the import time it adds to `run`.

Runs `orchestrator run` (in this process, the real CLI and target) twice on a
training + endpoint pipeline against moto's server on 127.0.0.1 (no account
needed): first from scratch, then as a no-op re-run, and prints the AWS calls
each made, by operation and read/write. Then times, in fresh interpreters, the
imports a `run` of an aws spec adds.

    python benchmarks/aws_calls.py
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REGION = "us-east-1"
BUCKET = "orchestrator-bench-artifacts"


def start_moto() -> tuple[object, str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return server, url


SPEC = f"""\
version: 1
name: movie-reviews
target: aws
region: {REGION}
aws: {{role_arn: "arn:aws:iam::123456789012:role/bench-sagemaker", bucket: {BUCKET}}}
steps:
  train:
    type: training
    framework: sklearn
    entry_point: models/train.py
    inputs: {{train: data/reviews.csv, extra: "s3://{BUCKET}/raw/extra/"}}
    hyperparameters: {{C: 2.0}}
    metrics: [{{name: accuracy, regex: "accuracy=([0-9.]+)"}}]
  deploy:
    type: endpoint
    model: ${{steps.train.outputs.model}}
    inference: models/inference.py
    instance: {{type: ml.t2.medium}}
"""


def make_project(root: Path) -> Path:
    (root / "data").mkdir()
    (root / "data" / "reviews.csv").write_text("text,label\ngreat,1\nawful,0\n")
    (root / "models").mkdir()
    (root / "models" / "train.py").write_text("print('accuracy=0.9')\n")
    (root / "models" / "inference.py").write_text("def model_fn(model_dir):\n    return None\n")
    (root / "pipeline.yaml").write_text(SPEC)
    return root / "pipeline.yaml"


def make_account() -> None:
    import boto3

    session = boto3.Session(region_name=REGION)
    session.client("iam").create_role(RoleName="bench-sagemaker", AssumeRolePolicyDocument="{}")
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="raw/extra/part-0.csv", Body=b"fine,1\n")


def show(title: str, client) -> None:
    counts = client.counts()
    print(f"\n{title}: {counts['total']} calls ({counts['read']} read, {counts['write']} write)")
    for (operation, kind), n in sorted(client.calls.items()):
        print(f"  {operation:<24} {kind:<5} {n}")


def counted_target_class(clients: list):
    """The real AwsTarget, handed a wrapper we keep so its counts can be read after the run."""
    from orchestrator.targets.aws import AwsTarget
    from orchestrator.targets.aws.client import AwsClient

    class CountedAwsTarget(AwsTarget):
        def __init__(self, *args, **kwargs):
            clients.append(AwsClient(REGION))
            super().__init__(*args, client=clients[-1], **kwargs)
            self.poll_interval_s = 0  # moto's jobs and endpoints are ready at once

    return CountedAwsTarget


def count_calls() -> None:
    """Two real `run`s of the CLI, in this process, against moto."""
    from orchestrator.cli import main

    server, _ = start_moto()
    clients: list = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            spec = make_project(Path(tmp))
            make_account()
            target = counted_target_class(clients)
            for title in ("First run", "No-op re-run"):
                code = main(["run", "--quiet", str(spec)], targets={"aws": target})
                if code != 0:
                    raise SystemExit(f"{title}: run exited with {code}")
                show(f"{title} (python -m orchestrator run)", clients[-1])
    finally:
        server.stop()


IMPORT_STEPS = {
    "orchestrator.targets.aws (package)": "import orchestrator.targets.aws",
    "boto3 + 4 clients (sts, iam, s3, sagemaker)": (
        "from orchestrator.targets.aws.client import AwsClient\n"
        "c = AwsClient('us-east-1')\n"
        "[c._boto_client(s) for s in ('sts', 'iam', 's3', 'sagemaker')]"
    ),
    "sagemaker.core.image_uris (framework/algorithm images only)": "from sagemaker.core import image_uris",
}


def _time_in_fresh_interpreter(setup: str, measured: str, runs: int) -> float:
    code = "import time\n" + setup + "\nt = time.perf_counter()\n" + measured + "\nprint(time.perf_counter() - t)\n"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PYTHONWARNINGS": "ignore"}
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def import_times(runs: int = 5) -> None:
    """Each row: the median extra seconds over what a run has already imported before it."""
    print(f"\nImport time the aws target adds to a run (median of {runs} fresh interpreters):")
    setup = "import orchestrator.targets.base, orchestrator.spec.models"
    total = 0.0
    for label, statement in IMPORT_STEPS.items():
        seconds = _time_in_fresh_interpreter(setup, statement, runs)
        total += seconds
        print(f"  {label:<58} {seconds * 1000:8.1f} ms")
        setup += "\n" + statement
    print(f"  {'total':<58} {total * 1000:8.1f} ms")
    importtime = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import orchestrator.targets.base; import orchestrator.targets.aws"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    for line in importtime.splitlines():
        if line.rstrip().endswith("| orchestrator.targets.aws"):
            cumulative_us = int(line.split("|")[1])
            print(f"  -X importtime, orchestrator.targets.aws cumulative: {cumulative_us / 1000:.1f} ms")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    count_calls()
    import_times()
