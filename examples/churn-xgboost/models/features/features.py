"""Fit the churn features' preprocessing and write XGBoost's training data (script mode).

SageMaker's built-in XGBoost runs no user code, so the one-hot encoding and scaling
happen here, in a training step of their own:

- the fitted transform goes to SM_MODEL_DIR, so this step's `model` artifact is the
  transform the Lambda loads: `transform.json`, its fitted values (each category column's
  categories, each number's mean and scale) that the Lambda applies with numpy alone,
  and `transform.joblib`, the scikit-learn ColumnTransformer itself, for notebooks;
- the transformed rows go to SM_OUTPUT_DATA_DIR as `train.csv`, label first, no header:
  the format the XGBoost algorithm trains on.

A pickled scikit-learn object loads only with the scikit-learn version that wrote it,
and this step's container (framework_version) and the Lambda's requirements would have
to agree; the JSON values load anywhere.
"""

import argparse
import csv
import json
import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CATEGORICAL = ["plan", "contract", "payment_method"]
NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "data_gb"]
FIELDS = CATEGORICAL + NUMERIC
LABEL = "churn"


def load_customers(channel_dir: str) -> tuple[np.ndarray, np.ndarray]:
    records = []
    for path in sorted(Path(channel_dir).glob("*.csv")):
        with path.open(newline="") as f:
            records.extend(csv.DictReader(f))
    if not records:
        raise SystemExit(f"no customers found: expected CSV files with a header in {channel_dir}")
    missing = [name for name in [*FIELDS, LABEL] if name not in records[0]]
    if missing:
        raise SystemExit(f"the customers CSV lacks columns: {', '.join(missing)}")
    rows = np.array(
        [[r[name] for name in CATEGORICAL] + [float(r[name]) for name in NUMERIC] for r in records], dtype=object
    )
    labels = np.array([int(r[LABEL]) for r in records])
    return rows, labels


def build_transform() -> ColumnTransformer:
    categorical = list(range(len(CATEGORICAL)))
    numeric = list(range(len(CATEGORICAL), len(FIELDS)))
    return ColumnTransformer(
        [
            ("one_hot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
            ("scale", StandardScaler(), numeric),
        ],
        sparse_threshold=0.0,
    )


def fitted_values(transform: ColumnTransformer) -> dict:
    """What the fitted transform does, as plain values: one-hot columns in order, then scaled numbers."""
    one_hot, scale = transform.named_transformers_["one_hot"], transform.named_transformers_["scale"]
    return {
        "categorical": [
            {"name": name, "categories": [str(c) for c in categories]}
            for name, categories in zip(CATEGORICAL, one_hot.categories_, strict=True)
        ],
        "numeric": [
            {"name": name, "mean": float(mean), "scale": float(scale)}
            for name, mean, scale in zip(NUMERIC, scale.mean_, scale.scale_, strict=True)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--output-data-dir", default=os.environ.get("SM_OUTPUT_DATA_DIR", "output"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "data"))
    args, _ = parser.parse_known_args()

    rows, labels = load_customers(args.train)
    transform = build_transform()
    features = transform.fit_transform(rows).astype(np.float64)

    model_dir = Path(args.model_dir)
    joblib.dump(transform, model_dir / "transform.joblib")
    (model_dir / "transform.json").write_text(json.dumps(fitted_values(transform), indent=2))

    output_dir = Path(args.output_data_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    np.savetxt(output_dir / "train.csv", np.column_stack([labels, features]), delimiter=",", fmt="%.6g")
    print(f"{len(labels)} customers -> {features.shape[1]} features; churn rate {labels.mean():.3f}")


if __name__ == "__main__":
    main()
