"""The hand-off from a run to the Pulumi program in `pulumi/`: config in, outputs back.

The api and website steps are applied one after the other into the same stack
(`{pipeline}-{stage}`). Each writes only its own config key, so applying one
keeps the other part as it is; each returns the stack outputs for its step.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..spec.models import ApiStep, Pipeline, WebsiteStep
from ..targets.base import (
    NullReporter,
    Reporter,
    StepContext,
    StepFailed,
    StepResult,
    TargetError,
)
from . import stack_config as keys
from .automation import (
    SDK_MISSING_HINT,
    SDK_MISSING_MESSAGE,
    StackFactory,
    StackHandle,
    cli_missing,
    open_automation_stack,
)

PROGRAM_DIR = Path(__file__).resolve().parents[2] / "pulumi"
ERROR_TAIL_CHARS = 3000


class WebLayer:
    """Provisions and removes the API and website of one pipeline through Pulumi stacks."""

    def __init__(
        self,
        pipeline: Pipeline,
        project_dir: Path,
        state_dir: Path,
        reporter: Reporter | None = None,
        stack_factory: StackFactory | None = None,
        program_dir: Path = PROGRAM_DIR,
    ):
        self.pipeline = pipeline
        self.project_dir = Path(project_dir)
        self.state_dir = Path(state_dir)
        self.reporter = reporter or NullReporter()
        self.program_dir = program_dir
        self._stack_factory = stack_factory
        self._stacks: dict[str, StackHandle] = {}

    # -- checks before anything is spent -------------------------------------------------

    def preflight(self) -> None:
        """Fail before training is paid for when Pulumi cannot run the web layer."""
        stages = [step.stage for step in self.pipeline.steps.values() if isinstance(step, ApiStep)]
        duplicated = sorted({stage for stage in stages if stages.count(stage) > 1})
        if duplicated:
            raise TargetError(
                f"Several api steps use stage {duplicated[0]!r}; each stage is one Pulumi stack with one API.",
                hint="Give each api step its own `stage`.",
            )
        if self._stack_factory is not None:
            return  # a stand-in for the Automation API needs no CLI
        if shutil.which("pulumi") is None:
            raise cli_missing()
        try:
            import pulumi.automation  # noqa: F401  (checks the SDK is importable)
        except ImportError as exc:
            raise TargetError(SDK_MISSING_MESSAGE, hint=SDK_MISSING_HINT) from exc
        if not (self.program_dir / "Pulumi.yaml").is_file():
            raise TargetError(
                f"The Pulumi program is missing: no Pulumi.yaml in {self.program_dir}.",
                hint="Run from a checkout of orchestrator that includes its pulumi/ folder.",
            )

    # -- the two steps ---------------------------------------------------------------------

    def apply_api(self, step_name: str, step: ApiStep, ctx: StepContext) -> StepResult:
        stack = self._stack(keys.stack_name(self.pipeline, step.stage))
        outputs = self._apply(stack, keys.API_KEY, keys.api_document(step), ctx)
        url = self._required(outputs, "api_url", stack)
        route_urls = outputs.get("route_urls") or {}
        details = {"stack": stack.name, "backend": self.backend_label}
        if outputs.get("api_key_id"):
            details["api_key_id"] = outputs["api_key_id"]
        return StepResult(
            outputs={"url": url, "api_id": self._required(outputs, "api_id", stack), "route_urls": route_urls},
            message=f"API {step_name} is live at {url} ({len(step.routes)} route(s), Pulumi stack {stack.name})",
            details=details,
        )

    def apply_website(self, step_name: str, step: WebsiteStep, ctx: StepContext) -> StepResult:
        stack = self._stack(keys.stack_name(self.pipeline, keys.website_stage(self.pipeline)))
        outputs = self._apply(stack, keys.WEBSITE_KEY, keys.website_document(step), ctx)
        url = self._required(outputs, "website_url", stack)
        return StepResult(
            outputs={"url": url, "bucket": self._required(outputs, "website_bucket", stack)},
            message=f"website {step_name} is live at {url} (Pulumi stack {stack.name})",
            details={"stack": stack.name, "backend": self.backend_label},
        )

    def destroy(self, kind: str, ctx: StepContext) -> str:
        """Remove one part; the stack itself goes when no part is left in it."""
        if kind not in keys.PART_KEYS:
            raise ValueError(f"the web layer has no {kind!r} part")
        stack = self._stack(self._recorded_stack_name(kind, ctx))
        stack.restore_config()
        config = stack.get_config()
        key = keys.PART_KEYS[kind]
        others = [other for other in keys.PART_KEYS.values() if other != key and other in config]
        stack.remove_config([key])
        if others:
            self._run(ctx, "up", stack, lambda: stack.up(on_output=self._streamer(ctx)))
            return f"removed the {kind} from Pulumi stack {stack.name}; the rest of the stack stays"
        self._run(ctx, "destroy", stack, lambda: stack.destroy(on_output=self._streamer(ctx)))
        stack.remove()
        self._stacks.pop(stack.name, None)
        return f"destroyed Pulumi stack {stack.name}"

    # -- helpers ---------------------------------------------------------------------------

    @property
    def backend_url(self) -> str:
        """The configured backend, or a local file backend in the pipeline's state folder."""
        if self.pipeline.aws.pulumi_backend:
            return self.pipeline.aws.pulumi_backend
        return (self.state_dir / "pulumi").resolve().as_uri()

    @property
    def backend_label(self) -> str:
        """The backend as recorded in run state: without any credentials in the URL."""
        url = self.backend_url
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url

    def environment(self) -> dict[str, str]:
        """Variables the Pulumi CLI runs with: backend, interpreter, and an empty passphrase unless one is set."""
        env = {
            "PULUMI_BACKEND_URL": self.backend_url,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # The program runs with this interpreter, which has pulumi-aws (checked in preflight).
            "PULUMI_PYTHON_CMD": sys.executable,
        }
        if "PULUMI_CONFIG_PASSPHRASE" not in os.environ and "PULUMI_CONFIG_PASSPHRASE_FILE" not in os.environ:
            env["PULUMI_CONFIG_PASSPHRASE"] = ""  # local stacks hold no secrets of ours
        if self.pipeline.aws.profile:
            env["AWS_PROFILE"] = self.pipeline.aws.profile
        return env

    def _stack(self, name: str) -> StackHandle:
        if name not in self._stacks:
            if self.backend_url.startswith("file://"):
                (self.state_dir / "pulumi").mkdir(parents=True, exist_ok=True)
            factory = self._stack_factory or open_automation_stack
            self._stacks[name] = factory(name, self.program_dir, self.environment())
        return self._stacks[name]

    def _apply(self, stack: StackHandle, key: str, document: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        stack.restore_config()
        build_dir = self.state_dir / "pulumi-build"
        stack.set_config({**keys.common_config(self.pipeline, self.project_dir, build_dir), key: keys.encode(document)})
        ctx.reporter.status(f"pulumi up {stack.name}")
        return self._run(ctx, "up", stack, lambda: stack.up(on_output=self._streamer(ctx)))

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

    def _recorded_stack_name(self, kind: str, ctx: StepContext) -> str:
        """Destroy what was made: the stack recorded by the run, else the one the spec names now."""
        if ctx.previous and ctx.previous.details.get("stack"):
            return str(ctx.previous.details["stack"])
        step = self.pipeline.steps.get(ctx.step)
        if kind == "api" and isinstance(step, ApiStep):
            return keys.stack_name(self.pipeline, step.stage)
        return keys.stack_name(self.pipeline, keys.website_stage(self.pipeline))

    @staticmethod
    def _required(outputs: Mapping[str, Any], name: str, stack: StackHandle) -> Any:
        if outputs.get(name) in (None, ""):
            raise StepFailed(
                f"Pulumi stack {stack.name} has no output {name!r}",
                detail=f"outputs were: {json.dumps(sorted(outputs))}",
            )
        return outputs[name]
