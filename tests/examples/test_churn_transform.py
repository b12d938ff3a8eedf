"""The churn Lambda is plain AWS code: it reads its transform from S3 and applies it as fitted.

The features script runs under the training contract's environment variables, its model
folder is packed as SageMaker packs `model.tar.gz` and put in an S3 bucket served by
moto, and the handler module is imported in a fresh interpreter (as a Lambda cold start
does) with TRANSFORM_URI naming that object. The row it builds with numpy from
`transform.json` must be the one the fitted scikit-learn transform gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .conftest import cli_environment, copy_example

RECORD = {
    "plan": "basic",
    "contract": "month-to-month",
    "payment_method": "electronic-check",
    "tenure_months": 3,
    "monthly_charges": 79.5,
    "support_calls": 4,
    "data_gb": 6.2,
}

# Imports the handler as Lambda would and prints the CSV row it would send the endpoint.
COLD_START = """
import json, sys
sys.path.insert(0, "api")
import handler
print(json.dumps({"row": handler.features_csv(json.loads(sys.argv[1])), "threshold": handler.THRESHOLD}))
"""


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_example("churn-xgboost", tmp_path_factory.mktemp("churn"))


@pytest.fixture(scope="module")
def transform_archive(project, tmp_path_factory) -> Path:
    """Run the features step's script as a training job would, and pack its model folder."""
    job = tmp_path_factory.mktemp("job")
    model_dir, output_dir = job / "model", job / "output" / "data"
    model_dir.mkdir()
    env = {
        **cli_environment(),
        "SM_MODEL_DIR": str(model_dir),
        "SM_OUTPUT_DATA_DIR": str(output_dir),
        "SM_CHANNEL_TRAIN": str(project / "data"),
    }
    fitted = subprocess.run(
        [sys.executable, "models/features/features.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fitted.returncode == 0, fitted.stderr
    training_rows = (output_dir / "train.csv").read_text().splitlines()
    assert len(training_rows) == 1500 and training_rows[0].split(",")[0] in ("0", "1")
    archive = job / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def cold_start(project: Path, transform_uri: str, **extra_env: str) -> dict:
    env = {**cli_environment(), "TRANSFORM_URI": transform_uri, "AWS_DEFAULT_REGION": "us-east-1", **extra_env}
    started = subprocess.run(
        [sys.executable, "-c", COLD_START, json.dumps(RECORD)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr
    return json.loads(started.stdout)


def test_the_lambda_reads_its_transform_from_s3_and_builds_the_fitted_row(
    project, transform_archive, moto_url, tmp_path
):
    import boto3
    import joblib
    import numpy as np

    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="churn-artifacts")
    s3.upload_file(str(transform_archive), "churn-artifacts", "jobs/features-1/output/model.tar.gz")

    started = cold_start(
        project,
        "s3://churn-artifacts/jobs/features-1/output/model.tar.gz",
        AWS_ENDPOINT_URL_S3=moto_url,
        THRESHOLD="0.3",
        **credentials,
    )

    assert started["threshold"] == 0.3
    values = [float(v) for v in started["row"].split(",")]
    # 3 + 3 + 3 one-hot columns with one 1 each, then 4 scaled numbers
    assert len(values) == 13 and sum(values[:9]) == 3 and set(values[:9]) <= {0.0, 1.0}
    with tarfile.open(transform_archive) as tar:
        fitted = joblib.load(tar.extractfile("transform.joblib"))
    names = ["plan", "contract", "payment_method", "tenure_months", "monthly_charges", "support_calls", "data_gb"]
    expected = fitted.transform(
        np.array([[RECORD[n] if i < 3 else float(RECORD[n]) for i, n in enumerate(names)]], dtype=object)
    )
    assert started["row"] == ",".join(f"{value:.6g}" for value in expected[0])
