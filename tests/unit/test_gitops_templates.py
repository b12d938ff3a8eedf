"""The GitHub Actions templates parse, and every orchestrator command in them is one the CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import build_parser

WORKFLOWS = sorted(
    (Path(__file__).resolve().parents[2] / "examples" / "gitops" / ".github" / "workflows").glob("*.yml")
)
COMMAND = re.compile(r"python -m orchestrator ([^|>&;\n]+)")


def commands(workflow: dict) -> list[str]:
    found = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            found += [m.group(1).replace("$FORCE", "").strip() for m in COMMAND.finditer(step.get("run", ""))]
    return found


def test_there_are_plan_apply_and_retrain_workflows():
    assert [p.name for p in WORKFLOWS] == [
        "orchestrator-apply.yml",
        "orchestrator-plan.yml",
        "orchestrator-retrain.yml",
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_commands_parse(path):
    workflow = yaml.safe_load(path.read_text())
    found = commands(workflow)
    assert found, "a workflow that runs no orchestrator command"
    for command in found:
        args = build_parser().parse_args(shlex.split(command))
        assert args.file == "pipeline.yaml"


def test_pr_workflow_posts_a_markdown_plan_and_checks_for_changes():
    workflow = yaml.safe_load((WORKFLOWS[1]).read_text())
    found = commands(workflow)
    assert "plan pipeline.yaml --target aws --format markdown" in found
    assert "plan pipeline.yaml --target aws --exit-code" in found
    assert workflow[True]["pull_request"]  # YAML 1.1 reads the key `on` as true
