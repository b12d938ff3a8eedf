"""The hand-off from a run to the packaged Pulumi program (`program/`): config in, outputs back.

The api and website steps (`handlers.py`) are applied one after the other into the
same stack (`{pipeline}-{stage}`), each as a part: it writes only its own config keys,
so applying one keeps the other as it is, and gets back the stack outputs.
When a part moves to another stack (the api's `stage` changed), it is removed
from the stack it was recorded in once the new one is up.

The program runs inline (in this process, from the installed package), so a plain
`pip install 'orchestrator[aws,pulumi]'` can provision the API. The stacks' settings
files live in the pipeline's state folder (`WORKSPACE_DIR`), beside the default backend.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....spec.models import ApiStep, Pipeline
from ...base import StepContext, StepFailed, TargetError
from . import stack_config as keys
from .automation import (
    SDK_MISSING_HINT,
    SDK_MISSING_MESSAGE,
    Program,
    StackFactory,
    StackHandle,
    cli_missing,
    open_automation_stack,
)

ERROR_TAIL_CHARS = 3000
WORKSPACE_DIR = "pulumi-workspace"  # in the state folder: Pulumi.yaml and each stack's Pulumi.<stack>.yaml
PROGRAM_NEEDS = ("pulumi", "pulumi_aws")  # what the program imports when it runs


def _import_provider() -> None:
    """pulumi-aws, imported once before anything is spent: a broken install fails here, not after training."""
    try:
        importlib.import_module("pulumi_aws")
    except ImportError as exc:
        raise TargetError(SDK_MISSING_MESSAGE, hint=SDK_MISSING_HINT) from exc


def packaged_program() -> Program:
    """The program's entry point from this installed package, or a TargetError when it cannot run here.

    Checked without importing the SDKs (pulumi_aws alone takes seconds to load).
    """
    for name in PROGRAM_NEEDS:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise TargetError(SDK_MISSING_MESSAGE, hint=SDK_MISSING_HINT)
    from .program import main

    return main


@dataclass(frozen=True)
class Part:
    """What one web step kind owns in a stack: its config key, and the secret keys that go with it."""

    name: str  # as messages say it
    key: str
    secret_keys: tuple[str, ...] = ()


class WebLayer:
    """Provisions and removes the API and website of one pipeline through Pulumi stacks."""

    def __init__(
        self,
        pipeline: Pipeline,
        project_dir: Path,
        state_dir: Path,
        *,
        stack_factory: StackFactory | None = None,
        program: Program | None = None,
    ):
        """Progress goes to each step's own reporter (`ctx.reporter`)."""
        self.pipeline = pipeline
        self.project_dir = Path(project_dir)
        self.state_dir = Path(state_dir)
        self._given_program = program  # None: the packaged one
        self._stack_factory = stack_factory
        self._stacks: dict[str, StackHandle] = {}

    # -- checks before anything is spent -------------------------------------------------

    def preflight(self, stacks: Iterable[str] = ()) -> None:
        """Fail before training is paid for when Pulumi cannot run the web layer: the program and
        pulumi-aws import, the CLI is there, and each of `stacks` opens and its config decrypts
        (the backend is reachable, the passphrase is right)."""
        stages = [step.stage for step in self.pipeline.steps.values() if isinstance(step, ApiStep)]
        duplicated = sorted({stage for stage in stages if stages.count(stage) > 1})
        if duplicated:
            raise TargetError(
                f"Several api steps use stage {duplicated[0]!r}; each stage is one Pulumi stack with one API.",
                hint="Give each api step its own `stage`.",
            )
        program = self.program()
        if program is packaged_program():
            _import_provider()
        if self._stack_factory is None and shutil.which("pulumi") is None:
            raise cli_missing()  # a stand-in for the Automation API needs no CLI
        for name in dict.fromkeys(stacks):
            try:
                stack = self.stack(name)
                stack.restore_config()
                stack.get_config()
            except StepFailed as exc:
                raise TargetError(str(exc), exc.detail or None) from exc

    def program(self) -> Program:
        """What the stacks run: the given program, else the packaged one (a TargetError if it cannot run)."""
        return self._given_program or packaged_program()

    # -- a part into its stack, and out again ----------------------------------------------

    def apply(
        self, part: Part, stack_name: str, document: dict[str, Any], ctx: StepContext, secrets: Mapping[str, str]
    ) -> tuple[StackHandle, dict[str, Any]]:
        """Write the part's config (`secrets`: its secret keys that have a value) and bring the stack up."""
        stack = self.stack(stack_name)
        stack.restore_config()
        build_dir = self.state_dir / "pulumi-build"
        common = keys.common_config(self.pipeline, self.project_dir, build_dir, self.state_dir)
        stack.set_config({**common, part.key: keys.encode(document)})
        if secrets:
            stack.set_config(secrets, secret=True)
        unset = [key for key in part.secret_keys if key not in secrets]
        if unset:
            stack.remove_config(unset)
        ctx.reporter.status(f"pulumi up {stack.name}")
        return stack, self._run(ctx, "up", stack, lambda: stack.up(on_output=self._streamer(ctx)))

    def remove(self, part: Part, stack_name: str, ctx: StepContext) -> str:
        """Take the part out of the stack; the stack itself goes when no part is left in it."""
        stack = self.stack(stack_name)
        stack.restore_config()
        config = stack.get_config()
        others = [key for key in keys.PART_KEYS if key != part.key and key in config]
        stack.remove_config([part.key, *part.secret_keys])
        if others:
            self._run(ctx, "up", stack, lambda: stack.up(on_output=self._streamer(ctx)))
            return f"removed the {part.name} from Pulumi stack {stack.name}; the rest of the stack stays"
        self._run(ctx, "destroy", stack, lambda: stack.destroy(on_output=self._streamer(ctx)))
        stack.remove()
        self._stacks.pop(stack.name, None)
        return f"destroyed Pulumi stack {stack.name}"

    def leave_previous_stack(self, part: Part, stack: StackHandle, ctx: StepContext) -> None:
        """After the part is up in `stack`, remove it from the stack the last run recorded, if another."""
        previous = str(ctx.previous.details.get("stack") or "") if ctx.previous else ""
        if not previous or previous == stack.name:
            return
        try:
            removed = self.remove(part, previous, ctx)
        except StepFailed as exc:
            raise StepFailed(
                f"the {part.name} is up in Pulumi stack {stack.name}, but removing it from the previous stack "
                f"{previous} failed; run again to retry",
                detail=exc.detail,
                details={"stack": stack.name, "previous_stack": previous},
            ) from exc
        ctx.reporter.info(f"the {part.name} moved from Pulumi stack {previous} to {stack.name}: {removed}")

    # -- helpers ---------------------------------------------------------------------------

    @property
    def backend_url(self) -> str:
        """The configured backend; else beside the pipeline's state: in its S3 bucket when state is in S3
        (a CI runner's disk is gone by the next run, whose stacks must be the same), or in the local state folder."""
        if self.pipeline.aws.pulumi_backend:
            return self.pipeline.aws.pulumi_backend
        state = self.pipeline.state
        if state.startswith("s3://"):
            return f"{state.rstrip('/')}/{self.pipeline.name}/pulumi?region={self.pipeline.region}"
        return (self.state_dir / "pulumi").resolve().as_uri()

    @property
    def backend_label(self) -> str:
        """The backend as recorded in run state: without any credentials in the URL."""
        url = self.backend_url
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url

    @property
    def workspace_dir(self) -> Path:
        """Where the stacks' settings files are kept (Pulumi.yaml, Pulumi.<stack>.yaml): the state folder."""
        return self.state_dir / WORKSPACE_DIR

    def environment(self) -> dict[str, str]:
        """Variables the Pulumi CLI runs with: the backend, and an empty passphrase unless one is set."""
        env = {
            "PULUMI_BACKEND_URL": self.backend_url,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
        if "PULUMI_CONFIG_PASSPHRASE" not in os.environ and "PULUMI_CONFIG_PASSPHRASE_FILE" not in os.environ:
            # Route environments (config) and the API key (output) are Pulumi secrets, encrypted with this
            # passphrase. An empty one keeps them out of plain text in Pulumi.<stack>.yaml and the state,
            # nothing more: set PULUMI_CONFIG_PASSPHRASE(_FILE) to protect them.
            env["PULUMI_CONFIG_PASSPHRASE"] = ""
        if self.pipeline.aws.profile:
            env["AWS_PROFILE"] = self.pipeline.aws.profile
        return env

    def stack(self, name: str) -> StackHandle:
        """The stack of this name, opened once per run."""
        if name not in self._stacks:
            program = self.program()
            if self.backend_url.startswith("file://"):
                (self.state_dir / "pulumi").mkdir(parents=True, exist_ok=True)
            self.workspace_dir.mkdir(parents=True, exist_ok=True)
            factory = self._stack_factory or open_automation_stack
            self._stacks[name] = factory(name, program, self.workspace_dir, self.environment())
        return self._stacks[name]

    def _run(self, ctx: StepContext, verb: str, stack: StackHandle, action: Callable[[], Any]) -> Any:
        """Run one engine operation; foreign errors are wrapped here, once."""
        try:
            return action()
        except (TargetError, StepFailed):
            raise
        except FileNotFoundError as exc:
            raise cli_missing() from exc
        except Exception as exc:  # the Automation API's CommandError, or whatever the engine raised
            raise StepFailed(
                f"pulumi {verb} failed for stack {stack.name}",
                detail=str(exc)[-ERROR_TAIL_CHARS:],
                details={"stack": stack.name},
            ) from exc

    @staticmethod
    def _streamer(ctx: StepContext) -> Callable[[str], None]:
        def stream(text: str) -> None:
            for line in text.splitlines():
                if line.strip():
                    ctx.reporter.log(line.rstrip())

        return stream

    @staticmethod
    def required(outputs: Mapping[str, Any], name: str, stack: StackHandle) -> Any:
        """A stack output a step's outputs need; its absence fails the step, naming what there was."""
        if outputs.get(name) in (None, ""):
            raise StepFailed(
                f"Pulumi stack {stack.name} has no output {name!r}",
                detail=f"outputs were: {json.dumps(sorted(outputs))}",
            )
        return outputs[name]
