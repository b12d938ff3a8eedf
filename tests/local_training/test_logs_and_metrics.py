"""The script's output reaches the reporter line by line, and metrics come from it."""

from __future__ import annotations

from orchestrator.targets.local.training.job import run_training

CHATTY_SCRIPT = r"""
    import os, sys, time
    print("epoch 1 accuracy=0.50")
    print("epoch 1 loss=0.90", file=sys.stderr)
    time.sleep(0.6)
    print("epoch 2 accuracy=0.91 (best) accuracy=0.93")
    print("epoch 2 loss=0.12", file=sys.stderr)
    print("accuracy=not-a-number")
    print("done: accuracy=0.97")
    open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("weights")
"""

METRICS = [
    {"name": "accuracy", "regex": r"accuracy=([0-9.]+)"},
    {"name": "loss", "regex": r"loss=([0-9.]+)"},
    {"name": "f1", "regex": r"f1=([0-9.]+)"},
]


def test_metrics_keep_the_last_value_and_lines_stream_in_order(project):
    project.write("train.py", CHATTY_SCRIPT)
    step = project.step(entry_point="train.py", metrics=METRICS)

    result = run_training(step, project.context(step), project.home)

    assert result.metrics == {"accuracy": 0.97, "loss": 0.12}
    assert result.message.endswith(" s; accuracy=0.97, loss=0.12")
    assert project.reporter.warnings == ["metric f1 never matched the training log (regex 'f1=([0-9.]+)')"]

    reporter = project.reporter
    stdout_lines = [line for line in reporter.lines if "accuracy" in line or "done" in line]
    assert stdout_lines == [
        "epoch 1 accuracy=0.50",
        "epoch 2 accuracy=0.91 (best) accuracy=0.93",
        "accuracy=not-a-number",
        "done: accuracy=0.97",
    ]
    assert [line for line in reporter.lines if "loss" in line] == ["epoch 1 loss=0.90", "epoch 2 loss=0.12"]
    # Streamed as printed, not delivered at exit: the sleep shows between the epochs.
    first, second = reporter.lines.index("epoch 1 accuracy=0.50"), reporter.lines.index("epoch 2 loss=0.12")
    assert reporter.arrivals[second] - reporter.arrivals[first] >= 0.4

    log = (project.root / result.details["log"]).read_text().splitlines()
    assert sorted(log) == sorted(reporter.lines) and len(log) == 6


def test_a_metric_regex_without_a_group_uses_the_whole_match(project):
    project.write(
        "train.py",
        r"""
        import os
        print("score 0.75")
        open(os.path.join(os.environ["SM_MODEL_DIR"], "m"), "w").write("x")
    """,
    )
    step = project.step(entry_point="train.py", metrics=[{"name": "score", "regex": r"(?<=score )[0-9.]+"}])
    assert run_training(step, project.context(step), project.home).metrics == {"score": 0.75}


def test_several_instances_train_on_one_host_with_a_warning(project):
    project.write(
        "train.py",
        r"""
        import json, os
        assert json.loads(os.environ["SM_HOSTS"]) == ["algo-1"]
        open(os.path.join(os.environ["SM_MODEL_DIR"], "m"), "w").write("x")
    """,
    )
    step = project.step(entry_point="train.py", instance={"type": "ml.m5.large", "count": 3})
    run_training(step, project.context(step), project.home)
    assert project.reporter.warnings == ["instance.count is 3: the local target trains on one host (algo-1)"]
