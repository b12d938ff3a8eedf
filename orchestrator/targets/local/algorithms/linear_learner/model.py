"""The trained linear model: feature scaling, an SGD estimator, and label (un)scaling for regression."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_FILE = "linear-learner-model.joblib"
BINARY, MULTICLASS, REGRESSOR = "binary_classifier", "multiclass_classifier", "regressor"


@dataclass
class Scores:
    """`score` per row (a probability vector for multiclass) and `predicted_label` (None for regressors)."""

    scores: np.ndarray
    predicted_labels: np.ndarray | None


@dataclass
class LinearModel:
    predictor_type: str
    estimator: Any
    scaler: Any | None
    label_mean: float = 0.0
    label_scale: float = 1.0

    @property
    def feature_dim(self) -> int:
        return int(self.estimator.coef_.shape[-1])

    def predict(self, rows: np.ndarray) -> Scores:
        features = self.scaler.transform(rows) if self.scaler is not None else rows
        if self.predictor_type == REGRESSOR:
            return Scores(self.estimator.predict(features) * self.label_scale + self.label_mean, None)
        probabilities = self.estimator.predict_proba(features)
        if self.predictor_type == BINARY:
            positive = probabilities[:, 1]
            return Scores(positive, (positive >= 0.5).astype(int))
        return Scores(probabilities, probabilities.argmax(axis=1))
