"""A local hyperparameter tuning job: trials of one training, at the same time, ranked by the objective.

Each trial is a training job under the training contract (training/job.py runs it, with its
own job folder and model), its tuned hyperparameters merged over the static ones, as
SageMaker passes them. At most max_parallel_jobs run at once, and no more than this machine
has cores. The objective is read from each trial's log: with the training's metric regex, or
for a built-in algorithm with the `#quality_metric` line it prints (e.g. validation:accuracy).
A failed trial does not fail the tuning job; the best trial's model is the step's model.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import json
import os
import re
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from ....spec.models import Metric
from ....spec.tuning import TuningStep
from ...base import SLICE_S, Reporter, StepContext, StepFailed, StepResult
from ..training.job import run_training
from ..training.job_contract import job_name
from .sampling import strategy_run, trials

TUNING_NAME_MAX = 32  # HyperParameterTuningJobName: 1-32 characters (API reference)


def tuning_job_name(pipeline: str, step: str, fingerprint: str) -> str:
    name = job_name(pipeline, step, fingerprint)
    if len(name) <= TUNING_NAME_MAX:
        return name
    suffix = name.rsplit("-", 1)[-1][:8]
    return name[: TUNING_NAME_MAX - len(suffix) - 1].rstrip("-") + "-" + suffix


NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# The lines each built-in algorithm's stand-in prints, as the real ones do (see algorithms/).
BUILTIN_LINES = {
    "xgboost": r"\[[0-9]+\].*#011{split}-{name}:" + NUMBER,  # [3]#011train-rmse:0.2#011validation-rmse:0.3
    "blazingtext": r"#{split}_{name}: " + NUMBER,  # #validation_accuracy: 0.91
}
QUALITY_METRIC = r"#quality_metric: host=\S+,(?: epoch=\d+,)? {split} {name} <\w+>=" + NUMBER  # knn, linear-learner


def objective_metric(step: TuningStep) -> Metric:
    """How the objective is read from a trial's log: the training's own regex, or a built-in's line."""
    name = step.objective.metric
    algorithm = step.training.algorithm
    if algorithm:
        split, _, metric = name.partition(":")
        line = BUILTIN_LINES.get(algorithm, QUALITY_METRIC)
        return Metric(name=name, regex=line.format(split=re.escape(split), name=re.escape(metric)))
    return next(m for m in step.training.metrics if m.name == name)


class TrialReporter:
    """A trial's lines, prefixed with its name; its status stays its own (the tuning job shows progress)."""

    def __init__(self, reporter: Reporter, label: str):
        self.reporter, self.label = reporter, label

    def log(self, line: str) -> None:
        self.reporter.log(f"[{self.label}] {line}")

    def status(self, text: str) -> None:
        pass

    def info(self, text: str) -> None:
        self.reporter.info(f"{self.label}: {text}")

    def warn(self, text: str) -> None:
        self.reporter.warn(f"{self.label}: {text}")


def run_tuning(step: TuningStep, ctx: StepContext, home: Path) -> StepResult:
    name = tuning_job_name(ctx.pipeline.name, ctx.step, ctx.fingerprint)
    strategy = strategy_run(step)
    if strategy != step.strategy:
        ctx.reporter.warn(
            f"strategy {step.strategy} is not emulated locally: trials are drawn at random (seed {step.seed})"
        )
    if step.early_stopping != "Off":
        ctx.reporter.warn("early_stopping is not emulated locally: every trial trains to its end")
    objective = objective_metric(step)
    metrics = [*step.training.metrics] if not step.training.algorithm else [objective]
    chosen = trials(step)
    width = min(step.max_parallel_jobs, os.cpu_count() or 1)
    if width < min(step.max_parallel_jobs, len(chosen)):
        ctx.reporter.info(
            f"{width} trial{'s' if width != 1 else ''} at a time: this machine has {os.cpu_count()} cores"
        )
    ctx.reporter.status(f"InProgress: 0/{len(chosen)} trials")
    outcomes = _run_trials(step, ctx, home, name, chosen, metrics, width)
    scored = [t for t in outcomes if t["status"] == "Completed" and objective.name in t["metrics"]]
    details: dict[str, Any] = {"tuning_job_name": name, "strategy": strategy, "trials": outcomes}
    if not scored:
        reasons = "; ".join(f"{t['job_name']}: {t.get('failure', 'no objective metric')}" for t in outcomes)
        raise StepFailed(
            f"tuning job {name}: no trial reported the objective metric {objective.name}",
            detail=reasons,
            details=details,
        )
    sign = 1 if step.objective.type == "Maximize" else -1
    best = max(scored, key=lambda t: sign * t["metrics"][objective.name])
    details["best_trial"] = best["job_name"]
    ctx.reporter.status("Completed")
    value = best["metrics"][objective.name]
    return StepResult(
        outputs={"model": best["model"], "job_name": name, "best_hyperparameters": best["hyperparameters"]},
        metrics=dict(best["metrics"]),
        message=f"tuned with {len(scored)}/{len(outcomes)} trials ({strategy}); best {best['job_name']}: "
        f"{objective.name}={value:.4g}",
        details=details,
    )


def _run_trials(
    step: TuningStep,
    ctx: StepContext,
    home: Path,
    name: str,
    chosen: list[dict[str, Any]],
    metrics: list[Metric],
    width: int,
) -> list[dict[str, Any]]:
    """Every trial's outcome, in trial order; Ctrl-C reaches each running trial (its job stops)."""
    threads: dict[int, int] = {}
    lock = threading.Lock()

    def one(number: int, tuned: dict[str, Any]) -> dict[str, Any]:
        with lock:
            threads[number] = threading.get_ident()
        try:
            return _trial(step, ctx, home, name, number, tuned, metrics)
        finally:
            with lock:
                threads.pop(number, None)

    outcomes: dict[int, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="trial") as pool:
        running: dict[Future, int] = {pool.submit(one, i + 1, t): i + 1 for i, t in enumerate(chosen)}
        try:
            while running:
                finished, _ = wait(running, timeout=SLICE_S, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcomes[running.pop(future)] = future.result()
                if finished:
                    ctx.reporter.status(f"InProgress: {len(outcomes)}/{len(chosen)} trials")
        except BaseException:
            for future in running:
                future.cancel()
            with lock:
                for thread_id in threads.values():
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(thread_id), ctypes.py_object(KeyboardInterrupt)
                    )
            wait(running)
            raise
    return [outcomes[n] for n in sorted(outcomes)]


def _trial(
    step: TuningStep,
    ctx: StepContext,
    home: Path,
    name: str,
    number: int,
    tuned: dict[str, Any],
    metrics: list[Metric],
) -> dict[str, Any]:
    """One training job with the trial's hyperparameters; a failure is its outcome, not an exception."""
    hyperparameters = {**step.training.hyperparameters, **tuned}
    training = step.training.model_copy(update={"hyperparameters": hyperparameters, "metrics": metrics})
    digest = hashlib.sha256(f"{ctx.fingerprint}\n{json.dumps(tuned, sort_keys=True)}".encode()).hexdigest()
    label = f"{name}-{number:03d}"
    trial_ctx = dataclasses.replace(
        ctx,
        step=f"{ctx.step}-{number:03d}",
        fingerprint=digest,
        previous=None,
        reporter=TrialReporter(ctx.reporter, label),
    )
    shown = {k: str(v) for k, v in tuned.items()}  # as SageMaker reports TunedHyperParameters
    try:
        result = run_training(training, trial_ctx, home)
    except StepFailed as exc:
        return {"job_name": label, "status": "Failed", "hyperparameters": shown, "metrics": {}, "failure": str(exc)}
    return {
        "job_name": label,
        "training_job": result.outputs["job_name"],
        "status": "Completed",
        "hyperparameters": shown,
        "metrics": result.metrics,
        "model": result.outputs["model"],
    }
