"""The losses and scores Linear Learner reports, named as the real algorithm names them."""

from __future__ import annotations

import numpy as np

from orchestrator.targets.local.algorithms.linear_learner.model import BINARY, MULTICLASS, LinearModel

EPSILON = 1e-12


def objective(model: LinearModel, features: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[str, float]:
    """(name, value) of the training objective on these rows."""
    scores = model.predict(features).scores
    if model.predictor_type == BINARY:
        p = np.clip(scores, EPSILON, 1 - EPSILON)
        return "binary_classification_cross_entropy_objective", float(
            -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
        )
    if model.predictor_type == MULTICLASS:
        chosen = scores[np.arange(len(labels)), labels.astype(int)]
        return "multiclass_cross_entropy_objective", float(-np.mean(np.log(np.clip(chosen, EPSILON, 1))))
    return "square_loss_objective", float(np.mean((scores - labels) ** 2))


def final(
    model: LinearModel, features: np.ndarray, labels: np.ndarray, num_classes: int
) -> list[tuple[str, float, str]]:
    """(name, value, "score" or "loss") lines for a validation or test channel."""
    result = model.predict(features)
    name, value = objective(model, features, labels, num_classes)
    lines = [(name, value, "loss")]
    if model.predictor_type == BINARY:
        predicted = result.predicted_labels
        true_positive = float(np.sum((predicted == 1) & (labels == 1)))
        precision = true_positive / max(float(np.sum(predicted == 1)), 1.0)
        recall = true_positive / max(float(np.sum(labels == 1)), 1.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines += [
            ("binary_classification_accuracy", float(np.mean(predicted == labels)), "score"),
            ("binary_f_1.000", f1, "score"),
        ]
    elif model.predictor_type == MULTICLASS:
        lines.append(("multiclass_accuracy", float(np.mean(result.predicted_labels == labels)), "score"))
    else:
        errors = result.scores - labels
        lines += [
            ("mse", float(np.mean(errors**2)), "loss"),
            ("rmse", float(np.sqrt(np.mean(errors**2))), "loss"),
            ("absolute_loss", float(np.mean(np.abs(errors))), "loss"),
        ]
    return lines
