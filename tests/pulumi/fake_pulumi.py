"""A fake of the Automation API's stacks: config per checkout, deployed state per backend.

It behaves like the program for what the hand-off relies on: outputs for the
parts named in the config, config kept between operations, a fresh checkout
without config, engine output lines, failures on request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.targets.aws.web.automation import CONFIG_HINT
from orchestrator.targets.base import StepFailed


class EngineFailed(Exception):
    """What the Automation API raises when `pulumi up` fails (its CommandError)."""


class FakeCloud:
    """One backend: what each stack last deployed; the factory hands out stacks on it."""

    def __init__(self):
        self.deployed: dict[str, dict[str, Any]] = {}  # stack -> {"config": ..., "outputs": ...}
        self.checkout: dict[str, dict[str, str]] = {}  # stack -> Pulumi.<stack>.yaml of this checkout
        self.secret_keys: dict[str, set[str]] = {}  # stack -> keys set as secrets
        self.opened: list[tuple[str, Callable[[], None], Path, dict[str, str]]] = []  # name, program, workspace, env
        self.operations: list[tuple[str, str]] = []
        self.fail_next: str | None = None
        self.failing: dict[str, str] = {}  # stack -> message its every up/destroy fails with
        self.unreadable: dict[str, str] = {}  # stack -> what Pulumi says when its config is read (a wrong passphrase)
        self.config_reads: list[str] = []

    def factory(
        self, stack_name: str, program: Callable[[], None], work_dir: Path, env: Mapping[str, str]
    ) -> FakeStack:
        self.opened.append((stack_name, program, work_dir, dict(env)))
        return FakeStack(self, stack_name)

    def fresh_checkout(self) -> None:
        """Like a new CI clone: no Pulumi.<stack>.yaml files, same backend."""
        self.checkout.clear()


class FakeStack:
    def __init__(self, cloud: FakeCloud, name: str):
        self.cloud = cloud
        self.name = name

    @property
    def _config(self) -> dict[str, str]:
        return self.cloud.checkout.setdefault(self.name, {})

    def restore_config(self) -> None:
        if not self._config and self.name in self.cloud.deployed:
            self._config.update(self.cloud.deployed[self.name]["config"])

    def get_config(self) -> dict[str, str]:
        self.cloud.config_reads.append(self.name)
        if self.name in self.cloud.unreadable:
            raise StepFailed(
                f"pulumi config failed for stack {self.name}",
                detail=self.cloud.unreadable[self.name] + "\n" + CONFIG_HINT,
            )
        return dict(self._config)

    def set_config(self, values: Mapping[str, str], secret: bool = False) -> None:
        self._config.update(values)
        secrets = self.cloud.secret_keys.setdefault(self.name, set())
        if secret:
            secrets.update(values)
        else:
            secrets.difference_update(values)

    def remove_config(self, keys: list[str]) -> None:
        for key in keys:
            self._config.pop(key, None)
            self.cloud.secret_keys.get(self.name, set()).discard(key)

    def up(self, on_output: Callable[[str], None]) -> dict[str, Any]:
        self.cloud.operations.append(("up", self.name))
        on_output(f"Updating ({self.name})\n\n")
        if self.cloud.fail_next or self.name in self.cloud.failing:
            message = self.cloud.fail_next or self.cloud.failing[self.name]
            self.cloud.fail_next = None
            on_output("error: update failed\n")
            raise EngineFailed(message)
        outputs: dict[str, Any] = {}
        if "orchestrator:api" in self._config:
            api = json.loads(self._config["orchestrator:api"])
            url = f"https://fake123.execute-api.{self._config['aws:region']}.amazonaws.com/{api['stage']}"
            outputs.update(
                api_url=url,
                api_id="fake123",
                route_urls={f"{r['method']} {r['path']}": url + r["path"] for r in api["routes"]},
            )
            on_output(" +  aws:apigateway:RestApi created\n")
        if "orchestrator:website" in self._config:
            outputs.update(website_url="http://fake-site.s3-website.example", website_bucket="fake-site-bucket")
            on_output(" +  aws:s3:Bucket created\n")
        on_output("Resources:\n    12 created\n")
        self.cloud.deployed[self.name] = {"config": dict(self._config), "outputs": outputs}
        return outputs

    def destroy(self, on_output: Callable[[str], None]) -> None:
        self.cloud.operations.append(("destroy", self.name))
        on_output(f"Destroying ({self.name})\n")
        if self.name in self.cloud.failing:
            raise EngineFailed(self.cloud.failing[self.name])
        self.cloud.deployed.pop(self.name, None)

    def remove(self) -> None:
        self.cloud.operations.append(("remove", self.name))
        self.cloud.checkout.pop(self.name, None)
