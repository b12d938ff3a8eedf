"""Evaluate the tuned model on the held-out test set (a SageMaker Processing job, scikit-learn processor).

Reads the model from /opt/ml/processing/input/model/model.tar.gz and the test rows
(rings first, then the features) from /opt/ml/processing/input/test, and writes
output/evaluation/evaluation.json in the shape the SageMaker Pipelines tutorial's
evaluation step does: `{"regression_metrics": {"rmse": {"value": ...}, ...}}`. The
pipeline's `report:` turns those numbers into this step's metrics, and the endpoint's
`promote_when: {from: evaluate, ...}` reads them.
"""

import json
import tarfile
from pathlib import Path

import joblib
import numpy as np

BASE = Path("/opt/ml/processing")


def main() -> None:
    with tarfile.open(BASE / "input" / "model" / "model.tar.gz") as archive:
        model = joblib.load(archive.extractfile("model.joblib"))

    files = sorted((BASE / "input" / "test").glob("*.csv"))
    if not files:
        raise SystemExit(f"no test CSV files in {BASE / 'input' / 'test'}")
    rows = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    rings, predicted = rows[:, 0], model.predict(rows[:, 1:])
    errors = predicted - rings
    report = {
        "regression_metrics": {
            "rmse": {
                "value": round(float(np.sqrt(np.mean(errors**2))), 4),
                "standard_deviation": round(float(np.std(errors)), 4),
            },
            "mae": {"value": round(float(np.mean(np.abs(errors))), 4)},
            "r2": {"value": round(float(1 - np.sum(errors**2) / np.sum((rings - rings.mean()) ** 2)), 4)},
        },
        "test_rows": len(rings),
    }
    out = BASE / "output" / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
