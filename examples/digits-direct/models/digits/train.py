"""Train an 8x8 handwritten digit classifier under SageMaker's script-mode contract.

An RBF support vector machine with probability estimates, so the endpoint can answer
ten class probabilities per image as TensorFlow Serving does. Reads CSV rows (label,
then 64 pixels, no header) from the `train` channel, prints `validation_accuracy=` on
a held-out slice, then fits on every row and saves the model to SM_MODEL_DIR.
"""

import argparse
import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

PIXELS = 64


def load_images(channel_dir: str) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(Path(channel_dir).glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files in {channel_dir}: expected rows of label then {PIXELS} pixels")
    rows = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    if rows.shape[1] != PIXELS + 1:
        raise SystemExit(f"each row needs a label and {PIXELS} pixels, found {rows.shape[1]} columns")
    return rows[:, 1:], rows[:, 0].astype(int)


def build_model(C: float, gamma: float) -> SVC:
    return SVC(C=C, gamma=gamma, probability=True, random_state=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=10.0)
    parser.add_argument("--gamma", type=float, default=0.001)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "data"))
    args, _ = parser.parse_known_args()

    pixels, labels = load_images(args.train)
    x_fit, x_check, y_fit, y_check = train_test_split(pixels, labels, test_size=0.2, random_state=3, stratify=labels)
    accuracy = build_model(args.C, args.gamma).fit(x_fit, y_fit).score(x_check, y_check)
    print(f"trained on {len(x_fit)} images, checked on {len(x_check)}")
    print(f"validation_accuracy={accuracy:.4f}")

    model = build_model(args.C, args.gamma).fit(pixels, labels)
    joblib.dump(model, Path(args.model_dir) / "model.joblib")


if __name__ == "__main__":
    main()
