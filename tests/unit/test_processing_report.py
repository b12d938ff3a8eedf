"""A report's numbers as metrics, by the paths SageMaker Pipelines' JsonGet reads; the container path map."""

from __future__ import annotations

import math

from orchestrator.spec.processing import report_metrics
from orchestrator.targets.local.processing.launch import mapped


def test_nested_keys_join_with_dots_and_list_items_are_indexed():
    report = {
        "regression_metrics": {"mse": {"value": 0.25, "standard_deviation": 0.1}},
        "per_class": [{"f1": 0.9}, {"f1": 0.7}],
        "count": 3,
    }
    assert report_metrics(report) == {
        "regression_metrics.mse.value": 0.25,
        "regression_metrics.mse.standard_deviation": 0.1,
        "per_class[0].f1": 0.9,
        "per_class[1].f1": 0.7,
        "count": 3.0,
    }


def test_what_is_not_a_finite_number_is_not_a_metric():
    report = {"name": "held-out", "ok": True, "nan": math.nan, "inf": math.inf, "none": None, "a": {"b": "1.0"}}
    assert report_metrics(report) == {}
    assert report_metrics(0.5) == {}  # a bare number has no name


def test_only_the_container_root_is_mapped():
    assert mapped("/opt/ml/processing/input/raw", "/jobs/j") == "/jobs/j/processing/input/raw"
    assert mapped("/opt/ml", "/jobs/j") == "/jobs/j"
    assert mapped(b"/opt/ml/config", "/jobs/j") == b"/jobs/j/config"
    assert mapped("/opt/mlx/data", "/jobs/j") == "/opt/mlx/data"
    assert mapped("relative/opt/ml", "/jobs/j") == "relative/opt/ml"
    assert mapped(3, "/jobs/j") == 3  # a file descriptor passes through
