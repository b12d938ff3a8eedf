"""k-NN training under SageMaker's training contract, on scikit-learn's exact neighbour search.

Honoured hyperparameters, with the built-in's names and meanings: `k`, `predictor_type`
(classifier: majority vote; regressor: mean of the neighbours' labels), `sample_size` (rows
kept, sampled with a fixed seed), `feature_dim` (must match the data), `index_metric`
(L2 or COSINE). The real algorithm's approximate FAISS indexes and dimension reduction are
accepted with a warning: exact search is what they approximate.

Data: the `train` channel (and optional `test`) as CSV, label first, no header.

Log lines (`train` is leave-one-out on up to 2000 sampled rows; `test` needs a test channel):
    #quality_metric: host=algo-1, train accuracy <score>=0.97     (classifier; regressor: mse)
    #test_score (algo-1) : ('accuracy', 0.95)
    #quality_metric: host=algo-1, test accuracy <score>=0.95
"""

from __future__ import annotations

import joblib
import numpy as np

from orchestrator.targets.local.algorithms._contract import (
    DEFAULT_SEED,
    REQUIRED,
    HyperparameterSpec,
    Param,
    TrainingJob,
    fail,
    integer,
    run,
    text,
)
from orchestrator.targets.local.algorithms._tabular import read_labelled_csv, require_csv
from orchestrator.targets.local.algorithms.knn.model import MODEL_FILE, NeighbourModel

EXACT_INDEX = "faiss.Flat"
TRAIN_METRIC_ROWS = 2000

SPEC = HyperparameterSpec(
    algorithm="knn",
    params={
        "k": Param(integer, REQUIRED, minimum=1),
        "predictor_type": Param(text, REQUIRED, choices=("classifier", "regressor")),
        "sample_size": Param(integer, REQUIRED, minimum=1),
        "feature_dim": Param(integer, REQUIRED, minimum=1),
        "index_metric": Param(text, "L2", choices=("L2", "COSINE", "INNER_PRODUCT")),
        "index_type": Param(text, EXACT_INDEX, choices=(EXACT_INDEX, "faiss.IVFFlat", "faiss.IVFPQ")),
    },
    ignored={
        "dimension_reduction_target": "neighbours are searched in the full feature space",
        "dimension_reduction_type": "neighbours are searched in the full feature space",
        "faiss_index_ivf_nlists": "the index is exact",
        "faiss_index_pq_m": "the index is exact",
        "epochs": "k-NN makes one pass over the data",
        "mini_batch_size": "the data is read in one piece",
    },
)


def train(job: TrainingJob) -> None:
    hps = job.hyperparameters(SPEC)
    if hps["index_metric"] == "INNER_PRODUCT":
        fail("index_metric INNER_PRODUCT is not emulated by the local k-NN; use L2 or COSINE, or the aws target")
    if hps["index_type"] != EXACT_INDEX:
        job.log.warning(
            f"index_type {hps['index_type']} is served by an exact index locally "
            "(the answers are those the approximate index aims for)"
        )
    channel = job.channel("train", required=True)
    require_csv(job.channel_content_type("train"), "train", "k-NN")
    features, labels = read_labelled_csv(channel)
    if features.shape[1] != hps["feature_dim"]:
        fail(f"feature_dim is {hps['feature_dim']} but the training data has {features.shape[1]} features")
    rng = np.random.default_rng(DEFAULT_SEED)
    if hps["sample_size"] < len(features):
        keep = np.sort(rng.choice(len(features), size=hps["sample_size"], replace=False))
        features, labels = features[keep], labels[keep]
        job.log.info(f"sampled {len(keep)} of the training rows (sample_size)")
    if hps["k"] > len(features):
        fail(f"k={hps['k']} is larger than the {len(features)} training rows kept")
    model = NeighbourModel.fit(features, labels, hps["k"], hps["predictor_type"], hps["index_metric"])
    job.log.info(f"indexed {len(features)} rows of {features.shape[1]} features, k={hps['k']}")

    sample = rng.choice(len(features), size=min(TRAIN_METRIC_ROWS, len(features)), replace=False)
    _report(job, "train", model.leave_one_out(features[sample], sample), labels[sample], model.predictor_type)
    test = job.channel("test")
    if test is not None:
        require_csv(job.channel_content_type("test"), "test", "k-NN")
        test_features, test_labels = read_labelled_csv(test)
        if test_features.shape[1] != features.shape[1]:
            fail(f"the test channel has {test_features.shape[1]} features, the train channel {features.shape[1]}")
        _report(job, "test", model.predict(test_features).predicted_labels, test_labels, model.predictor_type)

    job.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, job.model_dir / MODEL_FILE)
    job.write_marker("knn", predictor_type=hps["predictor_type"], k=hps["k"], feature_dim=hps["feature_dim"])


def _report(job: TrainingJob, split: str, predicted: np.ndarray, actual: np.ndarray, predictor_type: str) -> None:
    if predictor_type == "classifier":
        name, value = "accuracy", float(np.mean(predicted == actual))
    else:
        name, value = "mse", float(np.mean((predicted - actual) ** 2))
    if split == "test":  # the real algorithm's first line for a test channel
        job.log.info(f"#test_score ({job.host}) : ('{name}', {value})")
    job.quality_metric(split, name, value)


if __name__ == "__main__":
    run(train)
