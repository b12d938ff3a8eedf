"""XGBoost training under SageMaker's training contract, on xgboost's CPU library.

Honoured hyperparameters, with the built-in's names and meanings: `num_round` (required),
`objective`, `num_class` (required by multi:* objectives), `max_depth`, `eta`, `subsample`,
`min_child_weight`, `gamma`, `scale_pos_weight`, `eval_metric` (comma-separated or a list),
`early_stopping_rounds` (needs a validation channel; the model kept is the best round),
`csv_weights`, `seed`, and the other booster parameters the library itself understands.

Data: `train` (and optional `validation`) channels as CSV (label first, no header) or LIBSVM,
chosen by the channel's ContentType or, when none is declared, by the first line.

Log lines, as the real container prints them (its tab shows as `#011` in CloudWatch, which is
what SageMaker's metric regexes for XGBoost match):
    [0]#011train-logloss:0.45123#011validation-logloss:0.47001
"""

from __future__ import annotations

from typing import Any

from orchestrator.targets.local.algorithms._contract import (
    REQUIRED,
    HyperparameterSpec,
    Param,
    TrainingJob,
    fail,
    integer,
    names,
    number,
    run,
    text,
)
from orchestrator.targets.local.algorithms.xgboost_algo.data import (
    Labelled,
    data_format,
    read_csv,
    read_libsvm,
)

MODEL_FILE = "xgboost-model"

# Booster parameters passed to the library unchanged: it validates them itself.
PASSED_THROUGH = (
    "alpha",
    "lambda",
    "max_delta_step",
    "colsample_bytree",
    "colsample_bylevel",
    "colsample_bynode",
    "tree_method",
    "booster",
    "base_score",
    "max_bin",
    "grow_policy",
    "max_leaves",
    "sampling_method",
    "num_parallel_tree",
    "tweedie_variance_power",
    "sketch_eps",
    "rate_drop",
    "one_drop",
    "skip_drop",
    "sample_type",
    "normalize_type",
    "refresh_leaf",
    "process_type",
    "monotone_constraints",
    "interaction_constraints",
    "max_cat_to_onehot",
    "huber_slope",
    "verbosity",
    "aft_loss_distribution",
    "aft_loss_distribution_scale",
    "lambda_bias",
    "deterministic_histogram",
    "single_precision_histogram",
)

SPEC = HyperparameterSpec(
    algorithm="xgboost",
    params={
        "num_round": Param(integer, REQUIRED, minimum=1),
        "objective": Param(text, "reg:squarederror"),
        "num_class": Param(integer, None, minimum=2),
        "eval_metric": Param(names, None),
        "early_stopping_rounds": Param(integer, None, minimum=1),
        "csv_weights": Param(integer, 0, choices=(0, 1)),
        "seed": Param(integer, 0),
        # None leaves the library's default, which is also the built-in's (max_depth 6, eta 0.3, ...).
        "max_depth": Param(integer, None, minimum=0),
        "eta": Param(number, None, minimum=0),
        "subsample": Param(number, None, minimum=0),
        "min_child_weight": Param(number, None, minimum=0),
        "gamma": Param(number, None, minimum=0),
        "scale_pos_weight": Param(number, None, minimum=0),
        **{name: Param(text) for name in PASSED_THROUGH},
    },
    ignored={
        "_kfold": "cross-validation training is not emulated; one model is trained on the train channel",
        "_num_cv_round": "cross-validation training is not emulated",
        "save_model_on_termination": "the model is saved when training ends",
        "prob_buffer_row": "a GPU setting",
        "nthread": "the local job uses the machine's cores",
        "updater": "the library chooses its updaters from tree_method",
        "use_dask_gpu_training": "a GPU setting",
    },
)


def booster_params(hps: dict[str, Any], job: TrainingJob) -> dict[str, Any]:
    params = {
        name: value
        for name, value in hps.items()
        if value is not None
        and name not in ("num_round", "early_stopping_rounds", "csv_weights", "eval_metric", "num_class")
    }
    objective = hps["objective"]
    if objective.startswith("multi:"):
        if hps["num_class"] is None:
            fail(f"objective {objective} needs the num_class hyperparameter")
        params["num_class"] = hps["num_class"]
    elif hps["num_class"] is not None:
        job.log.warning(f"num_class is used only by multi:* objectives, not {objective}")
    if params.get("tree_method") in ("gpu_hist", "gpu_exact"):
        job.log.warning(f"tree_method {params['tree_method']} runs as 'hist' on the local CPU")
        params["tree_method"] = "hist"
    if hps["eval_metric"]:
        params["eval_metric"] = hps["eval_metric"]
    return params


def read_channels(job: TrainingJob, csv_weights: bool) -> dict[str, Labelled]:
    channels = {"train": job.channel("train", required=True)}
    validation = job.channel("validation")
    if validation is not None:
        channels["validation"] = validation
    formats = {name: data_format(path, job.channel_content_type(name)) for name, path in channels.items()}
    if len(set(formats.values())) > 1:
        fail(f"the channels mix formats ({formats}); give them all as CSV or all as LIBSVM")
    if "libsvm" in formats.values():
        if csv_weights:
            job.log.warning("csv_weights applies to CSV data only; the LIBSVM data is read without weights")
        return read_libsvm(channels)
    data = {name: read_csv(path, csv_weights) for name, path in channels.items()}
    widths = {name: labelled.features.shape[1] for name, labelled in data.items()}
    if len(set(widths.values())) > 1:
        fail(f"the channels have different numbers of features: {widths}")
    return data


def train(job: TrainingJob) -> None:
    hps = job.hyperparameters(SPEC)
    params = booster_params(hps, job)
    data = read_channels(job, bool(hps["csv_weights"]))
    import xgboost as xgb  # imported late: a job that fails early stays quick

    matrices = {
        name: xgb.DMatrix(labelled.features, label=labelled.labels, weight=labelled.weights)
        for name, labelled in data.items()
    }
    callbacks: list[Any] = [_log_callback(xgb)]
    if hps["early_stopping_rounds"]:
        if "validation" not in matrices:
            fail("early_stopping_rounds needs a validation channel")
        callbacks.append(xgb.callback.EarlyStopping(rounds=hps["early_stopping_rounds"], save_best=True))
    try:
        booster = xgb.train(
            params,
            matrices["train"],
            num_boost_round=hps["num_round"],
            evals=[(matrix, name) for name, matrix in matrices.items()],
            callbacks=callbacks,
            verbose_eval=False,
        )
    except xgb.core.XGBoostError as exc:
        fail(f"xgboost rejected the job: {str(exc).strip().splitlines()[0]}")

    job.model_dir.mkdir(parents=True, exist_ok=True)
    (job.model_dir / MODEL_FILE).write_bytes(bytes(booster.save_raw("ubj")))
    job.write_marker(
        "xgboost", objective=hps["objective"], num_class=hps["num_class"], num_feature=booster.num_features()
    )


def _log_callback(xgb: Any) -> Any:
    class SageMakerLog(xgb.callback.TrainingCallback):
        """Prints each round's evaluation as the SageMaker container's log shows it."""

        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            parts = [
                f"{data}-{metric}:{_last(values):.5f}"
                for data, metrics in evals_log.items()
                for metric, values in metrics.items()
            ]
            print(f"[{epoch}]#011" + "#011".join(parts), flush=True)
            return False

    return SageMakerLog()


def _last(values: list[Any]) -> float:
    value = values[-1]
    return float(value[0] if isinstance(value, tuple) else value)


if __name__ == "__main__":
    run(train)
