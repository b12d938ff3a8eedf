"""Train the abalone age regressor under SageMaker's script-mode contract (scikit-learn container).

Gradient boosted trees predicting the ring count from the features the `prepare` step
wrote (label first, no header). Fits on the `train` channel, prints
`validation_rmse=` on the `validation` channel (the tuner minimises it), and saves
the model to SM_MODEL_DIR as model.joblib.
"""

import argparse
import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

FEATURES = 10  # sex one-hot (3) + 7 measurements


def load(channel_dir: str) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(Path(channel_dir).glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files in {channel_dir}: expected rows of rings then {FEATURES} features")
    rows = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    if rows.shape[1] != FEATURES + 1:
        raise SystemExit(f"each row needs the rings and {FEATURES} features, found {rows.shape[1]} columns")
    return rows[:, 1:], rows[:, 0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--n_estimators", type=int, default=100)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "train"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION", "validation"))
    args, _ = parser.parse_known_args()

    x_train, y_train = load(args.train)
    x_check, y_check = load(args.validation)
    model = GradientBoostingRegressor(
        learning_rate=args.learning_rate, max_depth=args.max_depth, n_estimators=args.n_estimators, random_state=0
    ).fit(x_train, y_train)
    rmse = float(np.sqrt(np.mean((model.predict(x_check) - y_check) ** 2)))
    print(f"trained on {len(y_train)} shells, checked on {len(y_check)}")
    print(f"validation_rmse={rmse:.4f}")
    joblib.dump(model, Path(args.model_dir) / "model.joblib")


if __name__ == "__main__":
    main()
