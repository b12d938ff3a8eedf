"""The thin adapter over `pulumi.automation.Stack`, checked against a stand-in Stack object."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from pulumi import automation as auto

from orchestrator.targets.aws.web import program as packaged
from orchestrator.targets.aws.web.automation import PROJECT_NAME, AutomationStack, open_automation_stack
from orchestrator.targets.base import StepFailed


@dataclass
class Value:
    value: object
    secret: bool = False


class StandInWorkspace:
    def __init__(self):
        self.removed: list[str] = []

    def remove_stack(self, name):
        self.removed.append(name)


class StandInStack:
    """Records calls the way `auto.Stack` would receive them."""

    def __init__(self, config=None, deployed=None):
        self.name = "demo-prod"
        self.config = dict(config or {})
        self.deployed = deployed
        self.secret_keys: set[str] = set()
        self.workspace = StandInWorkspace()
        self.calls: list[tuple] = []

    def get_all_config(self):
        return {key: auto.ConfigValue(value=value) for key, value in self.config.items()}

    def set_all_config(self, config, path=False):
        self.config.update({key: item.value for key, item in config.items()})
        self.secret_keys.update(key for key, item in config.items() if item.secret)

    def remove_all_config(self, keys, path=False):
        self.calls.append(("remove_all_config", tuple(keys)))
        for key in keys:
            self.config.pop(key)

    def refresh_config(self):
        if self.deployed is None:
            raise auto.CommandError(SimpleNamespace(stdout="", stderr="no previous deployment", code=255))
        self.config.update(self.deployed)

    def up(self, **kwargs):
        self.calls.append(("up", kwargs["color"], kwargs["on_output"] is kwargs["on_error"]))
        kwargs["on_output"]("Updating (demo-prod)\n")
        return SimpleNamespace(outputs={"api_url": Value("https://x"), "api_key": Value("k", secret=True)})

    def destroy(self, **kwargs):
        self.calls.append(("destroy", kwargs["color"]))


def test_outputs_leave_secrets_out_and_stream_output():
    lines = []
    stack = StandInStack()
    assert AutomationStack(stack, auto).up(lines.append) == {"api_url": "https://x"}
    assert lines == ["Updating (demo-prod)\n"]
    assert stack.calls == [("up", "never", True)]


def test_config_round_trip_and_removal_of_present_keys_only():
    stack = StandInStack({"aws:region": "eu-west-1"})
    adapter = AutomationStack(stack, auto)
    adapter.set_config({"orchestrator:api": "{}"})
    assert adapter.get_config() == {"aws:region": "eu-west-1", "orchestrator:api": "{}"}
    adapter.remove_config(["orchestrator:api", "orchestrator:website"])
    assert stack.calls == [("remove_all_config", ("orchestrator:api",))]
    adapter.remove_config(["orchestrator:website"])
    assert len(stack.calls) == 1


RECORDING_CLI = """#!{python}
import json, os, sys
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps({{"args": sys.argv[1:], "stdin": sys.stdin.read(), "cwd": os.getcwd(),
                          "backend": os.environ.get("PULUMI_BACKEND_URL")}}) + "\\n")
"""


def recording_cli(tmp_path, monkeypatch) -> tuple[Path, Path]:
    cli = tmp_path / "bin" / "pulumi"
    cli.parent.mkdir()
    cli.write_text(RECORDING_CLI.format(python=sys.executable))
    cli.chmod(0o755)
    log = tmp_path / "cli.jsonl"
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    return cli, log


def test_secret_config_reaches_the_cli_on_stdin_never_on_its_command_line(tmp_path, monkeypatch):
    """`ps` shows a command line to every user of the machine; the value goes to the CLI's standard input."""
    cli, log = recording_cli(tmp_path, monkeypatch)
    stack = StandInStack()
    stack.workspace.pulumi_command = SimpleNamespace(command=str(cli))
    stack.workspace.work_dir = str(tmp_path)
    stack.workspace.env_vars = {"PULUMI_BACKEND_URL": "s3://state/demo/pulumi"}
    adapter = AutomationStack(stack, auto)
    adapter.set_config({"orchestrator:api": "{}"})
    secret = '{"POST /p":{"OPENAI_API_KEY":"sk-live-123"}}'
    adapter.set_config({"orchestrator:apiEnvironment": secret}, secret=True)
    [call] = [json.loads(line) for line in log.read_text().splitlines()]
    assert call["args"] == [
        "config",
        "set",
        "--secret",
        "--stack",
        "demo-prod",
        "--non-interactive",
        "orchestrator:apiEnvironment",
    ]
    assert call["stdin"] == secret and "sk-live-123" not in " ".join(call["args"])
    assert call["cwd"] == str(tmp_path) and call["backend"] == "s3://state/demo/pulumi"
    assert stack.config == {"orchestrator:api": "{}"}  # set-all carried only the plain key


def test_a_cli_that_refuses_a_secret_is_a_step_failure_naming_the_stack(tmp_path, monkeypatch):
    failing = tmp_path / "pulumi"
    failing.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stderr.write('error: incorrect passphrase')\nsys.exit(255)\n"
    )
    failing.chmod(0o755)
    stack = StandInStack()
    stack.workspace.pulumi_command = SimpleNamespace(command=str(failing))
    stack.workspace.work_dir = str(tmp_path)
    stack.workspace.env_vars = {}
    with pytest.raises(StepFailed) as failed:
        AutomationStack(stack, auto).set_config({"k": "v"}, secret=True)
    assert str(failed.value) == "pulumi config set --secret failed for stack demo-prod"
    assert failed.value.detail.startswith("error: incorrect passphrase\nCheck that the Pulumi backend is reachable")


def test_config_the_cli_cannot_read_is_a_step_failure_naming_the_stack():
    class Unreachable(StandInStack):
        def get_all_config(self):
            raise auto.CommandError(
                SimpleNamespace(stdout="", stderr="error: failed to load checkpoint: NoSuchBucket", code=255)
            )

    with pytest.raises(StepFailed) as failed:
        AutomationStack(Unreachable(), auto).get_config()
    assert str(failed.value) == "pulumi config failed for stack demo-prod"
    assert "NoSuchBucket" in failed.value.detail


def test_restore_config_only_when_this_checkout_has_none():
    fresh = StandInStack(deployed={"orchestrator:api": "{}"})
    AutomationStack(fresh, auto).restore_config()
    assert fresh.config == {"orchestrator:api": "{}"}
    local = StandInStack({"aws:region": "eu-west-1"}, deployed={"orchestrator:api": "{}"})
    AutomationStack(local, auto).restore_config()
    assert local.config == {"aws:region": "eu-west-1"}


def test_restore_config_of_a_new_stack_is_a_no_op():
    new = StandInStack()
    AutomationStack(new, auto).restore_config()
    assert new.config == {}


def test_destroy_and_remove():
    stack = StandInStack()
    adapter = AutomationStack(stack, auto)
    adapter.destroy(print)
    adapter.remove()
    assert stack.calls == [("destroy", "never")]
    assert stack.workspace.removed == ["demo-prod"]


# -- the real Automation API, against a stand-in CLI on PATH -------------------------------------

FAKE_CLI = """#!{python}
import json, os, sys
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps({{"args": sys.argv[1:], "cwd": os.getcwd(), "backend": os.environ.get("PULUMI_BACKEND_URL")}}) + "\\n")
if sys.argv[1:] == ["version"]:
    print("v3.200.0")
"""


def test_a_stack_runs_the_packaged_program_inline_with_its_settings_in_the_workspace(tmp_path, monkeypatch):
    """What `create_or_select_stack` is given: the program, the project name, and a workspace folder it keeps."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "pulumi"
    cli.write_text(FAKE_CLI.format(python=sys.executable))
    cli.chmod(0o755)
    log = tmp_path / "cli.jsonl"
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}")
    work_dir = tmp_path / "state" / "pulumi-workspace"
    work_dir.mkdir(parents=True)

    stack = open_automation_stack("demo-prod", packaged.main, work_dir, {"PULUMI_BACKEND_URL": "file:///backend"})

    assert stack.name == "demo-prod"
    assert stack._stack.workspace.program is packaged.main  # what `up` and `destroy` will run, in this process
    project = yaml.safe_load((work_dir / "Pulumi.yaml").read_text())
    by_hand = yaml.safe_load((Path(__file__).resolve().parents[2] / "pulumi" / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT_NAME == by_hand["name"]  # a run's stacks are the ones `pulumi up` by hand selects
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    select = calls[-1]
    args = select["args"]  # `stack select --stack NAME`, then options that vary by pulumi version
    assert args[args.index("select") - 1 : args.index("select") + 3] == ["stack", "select", "--stack", "demo-prod"]
    assert select["cwd"] == str(work_dir) and select["backend"] == "file:///backend"
