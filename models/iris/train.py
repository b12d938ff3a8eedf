"""Train an iris species classifier under SageMaker's script-mode contract.

Reads the `train` channel, holds out a test split, prints `accuracy=...` for the
metric regex, and saves the model to SM_MODEL_DIR, exactly as on SageMaker.
"""

import argparse
import csv
import json
import os
from pathlib import Path

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(channel_dir: str):
    rows = []
    for path in sorted(Path(channel_dir).glob("*.csv")):
        with path.open() as f:
            rows.extend(csv.DictReader(f))
    features = [[float(r[k]) for k in ("sepal_length", "sepal_width", "petal_length", "petal_width")] for r in rows]
    return features, [r["species"] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    # SageMaker passes one-letter hyperparameters as -C, longer ones as --name.
    parser.add_argument("-C", type=float, default=1.0)
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "data"))
    args, _ = parser.parse_known_args()

    x, y = load(args.train)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=args.test_fraction, random_state=7, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=1000))
    model.fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)
    print(f"trained on {len(x_train)} rows, tested on {len(x_test)}")
    print(f"accuracy={accuracy:.4f}")

    out = Path(args.model_dir)
    joblib.dump(model, out / "model.joblib")
    (out / "labels.json").write_text(json.dumps(sorted(set(y))))


if __name__ == "__main__":
    main()
