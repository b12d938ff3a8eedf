"""Every example validates, plans for AWS, and ships the data its generator writes.

These run the CLI on a copy of each example, so they are fast and need neither the
local target's servers nor an AWS account.
"""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import EXAMPLE_NAMES, EXAMPLES, ROOT, cli_environment, copy_example, orchestrator

SCHEMA_LINE = "# yaml-language-server: $schema=../../schemas/pipeline.schema.json"

# example -> (generator script, the files it writes), all under data/
GENERATORS = {
    "tweet-escalation": ("make_tweets.py", ["tweets.csv"]),
    "review-sentiment": ("make_reviews.py", ["reviews.train.txt", "reviews.validation.txt"]),
    "digits-direct": ("make_digits.py", ["digits.train.csv", "digits.test.csv"]),
    "recommender-knn": ("make_mysfits.py", ["mysfits.train.csv", "mysfits.test.csv"]),
    "churn-xgboost": ("make_customers.py", ["customers.csv"]),
    "abalone-pipeline": ("make_abalone.py", ["abalone.csv"]),
}


@pytest.fixture(params=EXAMPLE_NAMES)
def example(request, tmp_path) -> Path:
    return copy_example(request.param, tmp_path)


def test_every_example_folder_is_tested():
    folders = {p.name for p in EXAMPLES.iterdir() if (p / "pipeline.yaml").exists()}
    assert set(EXAMPLE_NAMES) <= folders
    assert set(GENERATORS) == set(EXAMPLE_NAMES)


def test_spec_points_editors_at_the_schema_and_targets_local(example):
    text = (example / "pipeline.yaml").read_text()
    assert text.splitlines()[0] == SCHEMA_LINE
    assert (
        EXAMPLES / example.name / SCHEMA_LINE.split("=", 1)[1]
    ).resolve() == ROOT / "schemas" / "pipeline.schema.json"
    spec = yaml.safe_load(text)
    assert spec["target"] == "local"
    assert set(spec["aws"]) >= {"role_arn", "bucket"}
    assert all(":-" in spec["aws"][key] for key in ("role_arn", "bucket")), "aws settings need ${env:NAME:-default}"


def test_validate_passes(example):
    checked = orchestrator(example, "validate", "pipeline.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid" in checked.stdout


def test_plan_for_aws_lists_every_step_as_new(example):
    planned = orchestrator(example, "plan", "pipeline.yaml", "--target", "aws", "--format", "json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    plan = json.loads(planned.stdout)
    steps = yaml.safe_load((example / "pipeline.yaml").read_text())["steps"]
    assert plan["target"] == "aws"
    assert [op["step"] for op in plan["ops"]] and {op["step"] for op in plan["ops"]} == set(steps)
    assert {op["action"] for op in plan["ops"]} == {"run"}
    state = example / ".orchestrator"
    assert not state.exists() or not any(state.rglob("*")), "plan must not record anything"


def test_readme_shows_how_to_call_the_api(example):
    readme = (example / "README.md").read_text()
    assert "python -m orchestrator run pipeline.yaml" in readme
    assert "curl" in readme
    assert "python -m orchestrator destroy pipeline.yaml" in readme


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_generator_rewrites_the_shipped_data_byte_for_byte(name, tmp_path):
    """The data is generated with a fixed seed, so the shipped files are what the script writes."""
    project = copy_example(name, tmp_path)
    script, outputs = GENERATORS[name]
    for output in outputs:
        (project / "data" / output).unlink()
    generated = subprocess.run(
        [sys.executable, f"data/{script}"],
        cwd=project,
        env=cli_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stderr
    for output in outputs:
        assert filecmp.cmp(project / "data" / output, EXAMPLES / name / "data" / output, shallow=False), output
