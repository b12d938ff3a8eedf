"""The Automation API behind a small interface, so the hand-off can be tested with a fake.

`StackHandle` is all the hand-off uses; `open_automation_stack` is the real one
(pulumi.automation, imported only when called). The program runs inline, in this
process, from the installed package: no program folder has to exist on disk. A
missing CLI is turned into a TargetError with an install hint here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ...base import TargetError

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


def cli_missing() -> TargetError:
    return TargetError(CLI_MISSING_MESSAGE, hint=CLI_MISSING_HINT)


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
    """StackHandle over `pulumi.automation.Stack`."""

    def __init__(self, stack: Any, auto: Any):
        self._stack = stack
        self._auto = auto
        self.name: str = stack.name

    def restore_config(self) -> None:
        if self.get_config():
            return
        try:
            self._stack.refresh_config()
        except self._auto.CommandError:
            pass  # a new stack has no update to restore from

    def get_config(self) -> dict[str, str]:
        return {key: item.value for key, item in self._stack.get_all_config().items()}

    def set_config(self, values: Mapping[str, str], secret: bool = False) -> None:
        self._stack.set_all_config(
            {key: self._auto.ConfigValue(value=value, secret=secret) for key, value in values.items()}
        )

    def remove_config(self, keys: list[str]) -> None:
        present = [key for key in keys if key in self.get_config()]
        if present:
            self._stack.remove_all_config(present)

    def up(self, on_output: OnOutput) -> dict[str, Any]:
        result = self._stack.up(on_output=on_output, on_error=on_output, color="never")
        return {key: output.value for key, output in result.outputs.items() if not output.secret}

    def destroy(self, on_output: OnOutput) -> None:
        self._stack.destroy(on_output=on_output, on_error=on_output, color="never")

    def remove(self) -> None:
        self._stack.workspace.remove_stack(self.name)


def open_automation_stack(stack_name: str, program: Program, work_dir: Path, env: Mapping[str, str]) -> StackHandle:
    """Select (or create) the stack with `program` run inline; its settings files live in `work_dir`.

    The folder goes in the workspace options: `create_or_select_stack` ignores its own
    `work_dir` argument for inline programs and would use a new temporary folder each time.
    """
    try:
        from pulumi import automation as auto
    except ImportError as exc:
        raise TargetError(SDK_MISSING_MESSAGE, hint=SDK_MISSING_HINT) from exc
    try:
        stack = auto.create_or_select_stack(
            stack_name=stack_name,
            project_name=PROJECT_NAME,
            program=program,
            opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=dict(env)),
        )
    except FileNotFoundError as exc:
        raise cli_missing() from exc
    return AutomationStack(stack, auto)
