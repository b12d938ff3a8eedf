"""The metrics each SageMaker built-in algorithm reports itself (in FinalMetricDataList).

A training job of a built-in takes no metric definitions (SageMaker refuses them), so
a spec's `metrics:` for a built-in can only name what the algorithm reports; the local
stand-ins print the same names. Sources, the algorithms' tuning pages:
  https://docs.aws.amazon.com/sagemaker/latest/dg/kNN-tuning.html
  https://docs.aws.amazon.com/sagemaker/latest/dg/blazingtext-tuning.html
  https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost-tuning.html (train: and validation: channels)
  https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner-tuning.html
"""

from __future__ import annotations

_XGBOOST = ("accuracy", "auc", "error", "f1", "logloss", "mae", "map", "merror", "mlogloss", "mse", "ndcg", "rmse")
_LINEAR_LEARNER = (
    "absolute_loss",
    "binary_classification_accuracy",
    "binary_f_beta",
    "dcg",
    "macro_f_beta",
    "macro_precision",
    "macro_recall",
    "mse",
    "multiclass_accuracy",
    "multiclass_top_k_accuracy",
    "objective_loss",
    "precision",
    "recall",
    "rmse",
    "roc_auc_score",
)

BUILTIN_METRICS: dict[str, tuple[str, ...]] = {
    "knn": ("test:accuracy", "test:mse"),
    "blazingtext": ("validation:accuracy", "train:mean_rho"),
    "xgboost": tuple(f"{channel}:{name}" for channel in ("train", "validation") for name in _XGBOOST),
    "linear-learner": tuple(f"{channel}:{name}" for channel in ("test", "validation") for name in _LINEAR_LEARNER),
}
