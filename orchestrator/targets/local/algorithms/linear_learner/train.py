"""Linear Learner training under SageMaker's training contract, on scikit-learn's SGD models.

Honoured hyperparameters, with the built-in's names and meanings: `predictor_type` (required:
binary_classifier | multiclass_classifier | regressor), `num_classes` (multiclass), `epochs`,
`mini_batch_size` (each epoch feeds shuffled batches of this size), `learning_rate` (a constant
SGD step; "auto" means 0.01), `l1`, `wd` (L1 and L2 penalties; "auto" means
0 and 1e-4), `use_bias`, `normalize_data`, `normalize_label`, `loss`, `feature_dim`,
`positive_example_weight_mult`, `balance_multiclass_weights`, `early_stopping_patience`,
`early_stopping_tolerance`. Updates are per example within a batch, a stand-in for the real
algorithm's mini-batch optimisers; `predicted_label` uses a 0.5 threshold on `score`.

Data: `train` (and optional `validation`, `test`) channels as CSV, label first, no header.

Log lines, in the real algorithm's format:
    #quality_metric: host=algo-1, epoch=3, train binary_classification_cross_entropy_objective <loss>=0.21
    #quality_metric: host=algo-1, epoch=3, validation binary_classification_cross_entropy_objective <loss>=0.25
    #quality_metric: host=algo-1, test binary_classification_accuracy <score>=0.95
    #quality_metric: host=algo-1, test multiclass_accuracy <score>=0.91
    #quality_metric: host=algo-1, test mse <loss>=12.5          (also rmse, absolute_loss)
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np

from orchestrator.targets.local.algorithms._contract import (
    DEFAULT_SEED,
    REQUIRED,
    HyperparameterSpec,
    Param,
    TrainingJob,
    auto_or,
    boolean,
    fail,
    integer,
    number,
    run,
    text,
)
from orchestrator.targets.local.algorithms._tabular import read_labelled_csv, require_csv
from orchestrator.targets.local.algorithms.linear_learner import metrics
from orchestrator.targets.local.algorithms.linear_learner.model import (
    BINARY,
    MODEL_FILE,
    MULTICLASS,
    REGRESSOR,
    LinearModel,
)

AUTO_LEARNING_RATE = 0.01  # a step that suits standardised features, as the built-in's tuned default does

LOSSES = {  # the built-in's loss name -> scikit-learn's
    BINARY: {"auto": "log_loss", "logistic": "log_loss"},
    MULTICLASS: {"auto": "log_loss", "softmax_loss": "log_loss"},
    REGRESSOR: {
        "auto": "squared_error",
        "squared_loss": "squared_error",
        "huber_loss": "huber",
        "absolute_loss": "epsilon_insensitive",
    },
}

SPEC = HyperparameterSpec(
    algorithm="linear-learner",
    params={
        "predictor_type": Param(text, REQUIRED, choices=(BINARY, MULTICLASS, REGRESSOR)),
        "num_classes": Param(integer, None, minimum=3),
        "feature_dim": Param(auto_or(integer), "auto"),
        "epochs": Param(integer, 15, minimum=1),
        "mini_batch_size": Param(integer, 1000, minimum=1),
        "learning_rate": Param(auto_or(number), "auto"),
        "l1": Param(auto_or(number), "auto"),
        "wd": Param(auto_or(number), "auto"),
        "use_bias": Param(boolean, True),
        "normalize_data": Param(boolean, True),
        "normalize_label": Param(auto_or(boolean), "auto"),
        "loss": Param(text, "auto"),
        "positive_example_weight_mult": Param(auto_or(number), 1.0),
        "balance_multiclass_weights": Param(boolean, False),
        "early_stopping_patience": Param(integer, 3, minimum=1),
        "early_stopping_tolerance": Param(number, 0.001, minimum=0),
    },
    ignored={
        name: reason
        for reason, names in {
            "scikit-learn's SGD takes its place": (
                "optimizer",
                "momentum",
                "beta_1",
                "beta_2",
                "bias_lr_mult",
                "bias_wd_mult",
                "lr_scheduler_step",
                "lr_scheduler_factor",
                "lr_scheduler_minimum_lr",
                "init_method",
                "init_scale",
                "init_sigma",
                "init_bias",
            ),
            "one model is trained": ("num_models", "num_calibration_samples"),
            "predicted_label uses a 0.5 threshold on score": (
                "binary_classifier_model_selection_criteria",
                "target_recall",
                "target_precision",
                "f_beta",
            ),
            "the scaler is fitted on all training rows": ("num_point_for_scaler", "unbias_data", "unbias_label"),
            "the loss takes scikit-learn's parameters": ("margin", "quantile", "loss_insensitivity", "huber_delta"),
            "accuracy is top-1": ("accuracy_top_k",),
        }.items()
        for name in names
    },
)


def train(job: TrainingJob) -> None:
    hps = job.hyperparameters(SPEC)
    kind = hps["predictor_type"]
    num_classes = _num_classes(hps)
    sk_loss = LOSSES[kind].get(hps["loss"])
    if sk_loss is None:
        fail(f"loss {hps['loss']} is not emulated for {kind} locally; use one of {', '.join(LOSSES[kind])}")
    data = {name: _read(job, name, required=(name == "train")) for name in ("train", "validation", "test")}
    features, _ = data["train"]
    if hps["feature_dim"] != "auto" and hps["feature_dim"] != features.shape[1]:
        fail(f"feature_dim is {hps['feature_dim']} but the training data has {features.shape[1]} features")
    for name, pair in data.items():
        if pair is not None:
            _check_labels(name, pair[0], pair[1], kind, num_classes, features.shape[1])

    model = _fit(job, hps, kind, num_classes, sk_loss, data)
    for split in ("validation", "test"):
        if data[split] is not None:
            for name, value, unit in metrics.final(model, *data[split], num_classes):
                job.quality_metric(split, name, value, unit)

    job.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, job.model_dir / MODEL_FILE)
    job.write_marker("linear-learner", predictor_type=kind, num_classes=num_classes, feature_dim=features.shape[1])


def _num_classes(hps: dict[str, Any]) -> int:
    if hps["predictor_type"] == MULTICLASS:
        if hps["num_classes"] is None:
            fail("predictor_type multiclass_classifier needs the num_classes hyperparameter")
        return hps["num_classes"]
    return 2 if hps["predictor_type"] == BINARY else 0


def _read(job: TrainingJob, channel: str, required: bool) -> tuple[np.ndarray, np.ndarray] | None:
    path = job.channel(channel, required=required)
    if path is None:
        return None
    require_csv(job.channel_content_type(channel), channel, "Linear Learner")
    return read_labelled_csv(path)


def _check_labels(
    channel: str, features: np.ndarray, labels: np.ndarray, kind: str, num_classes: int, width: int
) -> None:
    if features.shape[1] != width:
        fail(f"channel {channel} has {features.shape[1]} features, the train channel {width}")
    if kind == REGRESSOR:
        return
    valid = (labels == np.round(labels)) & (labels >= 0) & (labels < num_classes)
    if not valid.all():
        allowed = "0 or 1" if kind == BINARY else f"integers from 0 to {num_classes - 1}"
        fail(f"channel {channel}: {kind} labels must be {allowed}; found {labels[~valid][0]:g}")


def _fit(
    job: TrainingJob, hps: dict[str, Any], kind: str, num_classes: int, sk_loss: str, data: dict[str, Any]
) -> LinearModel:
    from sklearn.linear_model import SGDClassifier, SGDRegressor
    from sklearn.preprocessing import StandardScaler

    features, labels = data["train"]
    scaler = StandardScaler().fit(features) if hps["normalize_data"] else None
    x = scaler.transform(features) if scaler is not None else features
    label_mean, label_scale = 0.0, 1.0
    if kind == REGRESSOR and hps["normalize_label"] in ("auto", True):
        label_mean, label_scale = float(labels.mean()), float(labels.std()) or 1.0
    y = (labels - label_mean) / label_scale if kind == REGRESSOR else labels.astype(int)

    l1 = 0.0 if hps["l1"] == "auto" else hps["l1"]
    wd = 1e-4 if hps["wd"] == "auto" else hps["wd"]
    common: dict[str, Any] = {
        "loss": sk_loss,
        "penalty": "elasticnet" if l1 + wd > 0 else None,
        "alpha": l1 + wd,
        "l1_ratio": l1 / (l1 + wd) if l1 + wd > 0 else 0.0,
        "fit_intercept": hps["use_bias"],
        "random_state": DEFAULT_SEED,
    }
    if sk_loss == "epsilon_insensitive":
        common["epsilon"] = 0.0  # absolute loss
    learning_rate = AUTO_LEARNING_RATE if hps["learning_rate"] == "auto" else hps["learning_rate"]
    common.update(learning_rate="constant", eta0=learning_rate)
    if kind == REGRESSOR:
        estimator = SGDRegressor(**common)
    else:
        estimator = SGDClassifier(**common, class_weight=_class_weights(hps, kind, y, num_classes))
    model = LinearModel(kind, estimator, scaler, label_mean, label_scale)

    rng = np.random.default_rng(DEFAULT_SEED)
    watched = "validation" if data["validation"] is not None else "train"
    best, stale = np.inf, 0
    for epoch in range(hps["epochs"]):
        order = rng.permutation(len(x))
        for start in range(0, len(x), hps["mini_batch_size"]):
            batch = order[start : start + hps["mini_batch_size"]]
            if kind == REGRESSOR:
                estimator.partial_fit(x[batch], y[batch])
            else:
                estimator.partial_fit(x[batch], y[batch], classes=np.arange(num_classes))
        losses = {
            split: metrics.objective(model, *data[split], num_classes)
            for split in ("train", "validation")
            if data[split] is not None
        }
        for split, (name, value) in losses.items():
            job.log.info(f"#quality_metric: host={job.host}, epoch={epoch}, {split} {name} <loss>={value:.6g}")
        current = losses[watched][1]
        if current < best - hps["early_stopping_tolerance"] * abs(best if np.isfinite(best) else current):
            best, stale = current, 0
        else:
            stale += 1
            if stale >= hps["early_stopping_patience"]:
                job.log.info(f"early stopping after epoch {epoch}: {watched} loss stopped improving")
                break
    return model


def _class_weights(hps: dict[str, Any], kind: str, y: np.ndarray, num_classes: int) -> dict[int, float] | None:
    """partial_fit needs explicit weights; "balanced" is computed here as scikit-learn would."""
    counts = np.bincount(y, minlength=num_classes).astype(float)
    balanced = {c: len(y) / (num_classes * counts[c]) if counts[c] else 1.0 for c in range(num_classes)}
    if kind == MULTICLASS:
        return balanced if hps["balance_multiclass_weights"] else None
    weight = hps["positive_example_weight_mult"]
    if weight == "auto":  # the built-in's "auto" balances the two classes
        return balanced
    return None if weight == 1.0 else {0: 1.0, 1: float(weight)}


if __name__ == "__main__":
    run(train)
