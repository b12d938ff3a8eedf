"""The Automation API behind a small interface, so the hand-off can be tested with a fake.

`StackHandle` is all the hand-off uses; `open_automation_stack` is the real one
(pulumi.automation, imported only when called). The program runs inline, in this
process, from the installed package: no program folder has to exist on disk.

Every call into the Automation API is wrapped here, once: a missing CLI becomes a
TargetError with an install hint, anything the CLI refuses (an unreachable backend,
a wrong passphrase) a StepFailed naming the stack and what Pulumi said. Secret config
reaches the CLI on its standard input, never on its command line (which `ps` shows).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ...base import StepFailed, TargetError

OnOutput = Callable[[str], None]
Program = Callable[[], None]  # a Pulumi program: registers resources and exports outputs when called

# The project of `pulumi/Pulumi.yaml` too: a stack a run made is the stack `pulumi up` by hand selects.
PROJECT_NAME = "orchestrator"

CLI_MISSING_MESSAGE = (
    "The Pulumi CLI is not installed: target aws needs `pulumi` on PATH to provision the API and website."
)
CLI_MISSING_HINT = (
    "Install it with `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi`; "
    "see https://www.pulumi.com/docs/install/), open a new shell so `pulumi version` works, then run again."
)
SDK_MISSING_MESSAGE = "The pulumi Python packages are not installed: target aws needs them for the API and website."
SDK_MISSING_HINT = "pip install 'orchestrator[pulumi]'  (pulumi and pulumi-aws v7)"


ERROR_TAIL_CHARS = 3000
CONFIG_HINT = (
    "Check that the Pulumi backend is reachable with these credentials (aws.pulumi_backend, or the state "
    "folder's) and that PULUMI_CONFIG_PASSPHRASE is the one the stack was made with."
)
T = TypeVar("T")


def cli_missing() -> TargetError:
    return TargetError(CLI_MISSING_MESSAGE, hint=CLI_MISSING_HINT)


def guarded(what: str, stack: str, call: Callable[[], T]) -> T:
    """Run one Automation API call; what it raises becomes one clear error, naming the stack."""
    try:
        return call()
    except (TargetError, StepFailed):
        raise
    except FileNotFoundError as exc:
        raise cli_missing() from exc
    except Exception as exc:  # the Automation API's CommandError, or whatever the CLI raised
        said = str(getattr(exc, "stderr", "") or exc).strip()
        raise StepFailed(
            f"pulumi {what} failed for stack {stack}", detail=f"{said[-ERROR_TAIL_CHARS:]}\n{CONFIG_HINT}".strip()
        ) from exc


class StackHandle(Protocol):
    """One Pulumi stack of the web layer's program."""

    name: str

    def restore_config(self) -> None:
        """When this checkout has no config for the stack (a fresh CI clone), bring back the last update's."""

    def get_config(self) -> dict[str, str]: ...

    def set_config(self, values: Mapping[str, str], secret: bool = False) -> None:
        """Set these keys; `secret` ones are stored encrypted (`pulumi config set --secret`)."""

    def remove_config(self, keys: list[str]) -> None: ...

    def up(self, on_output: OnOutput) -> dict[str, Any]:
        """Apply; return the stack outputs (secrets left out)."""

    def destroy(self, on_output: OnOutput) -> None: ...

    def remove(self) -> None:
        """Forget the (destroyed) stack and its config file."""


# (stack name, program, workspace folder for Pulumi.yaml and Pulumi.<stack>.yaml, environment of the CLI)
StackFactory = Callable[[str, Program, Path, Mapping[str, str]], StackHandle]


class AutomationStack:
    """StackHandle over `pulumi.automation.Stack`; every call guarded."""

    def __init__(self, stack: Any, auto: Any):
        self._stack = stack
        self._auto = auto
        self.name: str = stack.name

    def restore_config(self) -> None:
        if self.get_config():
            return

        def refresh() -> None:
            try:
                self._stack.refresh_config()
            except self._auto.CommandError:
                pass  # a new stack has no update to restore from

        guarded("config refresh", self.name, refresh)

    def get_config(self) -> dict[str, str]:
        config = guarded("config", self.name, self._stack.get_all_config)
        return {key: item.value for key, item in config.items()}

    def set_config(self, values: Mapping[str, str], secret: bool = False) -> None:
        if secret:
            for key, value in values.items():
                guarded("config set --secret", self.name, lambda key=key, value=value: self._set_secret(key, value))
            return
        config = {key: self._auto.ConfigValue(value=value, secret=False) for key, value in values.items()}
        guarded("config set-all", self.name, lambda: self._stack.set_all_config(config))

    def _set_secret(self, key: str, value: str) -> None:
        """`pulumi config set --secret KEY` with the value on stdin: the CLI reads it there when not given."""
        workspace = self._stack.workspace
        command = getattr(getattr(workspace, "pulumi_command", None), "command", None) or shutil.which("pulumi")
        if command is None:
            raise cli_missing()
        result = subprocess.run(
            [command, "config", "set", "--secret", "--stack", self.name, "--non-interactive", key],
            input=value,
            cwd=workspace.work_dir,
            env={
                **os.environ,
                **({"PULUMI_HOME": workspace.pulumi_home} if getattr(workspace, "pulumi_home", None) else {}),
                **(workspace.env_vars or {}),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StepFailed(
                f"pulumi config set --secret failed for stack {self.name}",
                detail=f"{result.stderr.strip()[-ERROR_TAIL_CHARS:]}\n{CONFIG_HINT}".strip(),
            )

    def remove_config(self, keys: list[str]) -> None:
        present = [key for key in keys if key in self.get_config()]
        if present:
            guarded("config rm-all", self.name, lambda: self._stack.remove_all_config(present))

    def up(self, on_output: OnOutput) -> dict[str, Any]:
        result = self._stack.up(on_output=on_output, on_error=on_output, color="never")
        return {key: output.value for key, output in result.outputs.items() if not output.secret}

    def destroy(self, on_output: OnOutput) -> None:
        self._stack.destroy(on_output=on_output, on_error=on_output, color="never")

    def remove(self) -> None:
        guarded("stack rm", self.name, lambda: self._stack.workspace.remove_stack(self.name))


def open_automation_stack(stack_name: str, program: Program, work_dir: Path, env: Mapping[str, str]) -> StackHandle:
    """Select (or create) the stack with `program` run inline; its settings files live in `work_dir`.

    The folder goes in the workspace options: `create_or_select_stack` ignores its own
    `work_dir` argument for inline programs and would use a new temporary folder each time.
    """
    try:
        from pulumi import automation as auto
    except ImportError as exc:
        raise TargetError(SDK_MISSING_MESSAGE, hint=SDK_MISSING_HINT) from exc
    stack = guarded(
        "stack select",
        stack_name,
        lambda: auto.create_or_select_stack(
            stack_name=stack_name,
            project_name=PROJECT_NAME,
            program=program,
            opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=dict(env)),
        ),
    )
    return AutomationStack(stack, auto)
