"""The GitHub Actions templates parse, every orchestrator command in them is one the CLI accepts, and
they pass GitHub's workflow schema and zizmor's audit (actions pinned to commits, no persisted token)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
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


# -- GitHub's workflow schema and zizmor's security audit (both from the test extra) ---------------

PINNED = re.compile(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+(\.\d+)*")


def tool(name: str) -> str:
    """The command installed beside this interpreter (the test extra), else on PATH."""
    here = Path(sys.executable).with_name(name)
    found = str(here) if here.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def zizmor_findings(folder: Path) -> list[dict]:
    """zizmor's medium and high findings for the workflows in `folder`, offline."""
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--min-severity", "medium", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def test_every_workflow_matches_githubs_workflow_schema():
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_of_medium_or_high_severity():
    findings = zizmor_findings(WORKFLOWS[0].parent.parent.parent)
    assert findings == [], [(f["ident"], f["determinations"]["severity"]) for f in findings]


def test_zizmor_does_see_an_unpinned_action_that_persists_credentials(tmp_path):
    """The audit above can fail: a step as the templates had it is reported."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
    )
    assert {f["ident"] for f in zizmor_findings(tmp_path)} >= {"unpinned-uses", "artipacked"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_commit_with_the_tag_beside_it(path):
    uses = [line.strip().removeprefix("- ") for line in path.read_text().splitlines() if "uses:" in line]
    assert uses and all(PINNED.match(line) for line in uses), uses


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_install_line_installs_what_can_provision_the_api(path):
    assert 'pip install "orchestrator[aws,pulumi] @ git+' in path.read_text()
