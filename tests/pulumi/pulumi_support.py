"""Helpers for the Pulumi tests: a sample project and running the program under mocks in a fresh process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).with_name("program_runner.py")

HANDLER = """import os


def lambda_handler(event, context):
    return {"statusCode": 200, "body": os.environ["ENDPOINT_NAME"]}
"""


@dataclass
class ProgramRun:
    """What one run of the program registered: resources (type, name, inputs) and outputs."""

    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    error: str | None
    stderr: str
    package: str  # the file of the program package that ran (which installed orchestrator)
    refused: list[str]  # what AWS would refuse of the provider's requests for these resources

    def of_type(self, short_type: str) -> list[dict[str, Any]]:
        """Resources whose type ends with `:ShortType`, e.g. `Integration`."""
        return [r for r in self.resources if r["type"].rsplit(":", 1)[-1] == short_type]

    def named(self, short_type: str, name: str) -> dict[str, Any]:
        matches = [r for r in self.of_type(short_type) if r["name"] == name]
        assert len(matches) == 1, f"no single {short_type} {name!r} in {[r['name'] for r in self.of_type(short_type)]}"
        return matches[0]["inputs"]

    def secret_inputs(self, short_type: str, name: str) -> list[str]:
        """The resource's inputs that hold a secret (the engine keeps them encrypted in state)."""
        [match] = [r for r in self.of_type(short_type) if r["name"] == name]
        return match["secret_inputs"]

    def types(self) -> set[str]:
        return {r["type"].rsplit(":", 1)[-1] for r in self.resources}


def make_project(root: Path) -> Path:
    """A spec folder: a Lambda handler with a helper module, and a small site."""
    (root / "api" / "__pycache__").mkdir(parents=True)
    (root / "api" / "handler.py").write_text(HANDLER)
    (root / "api" / "helpers.py").write_text("SCALE = 2\n")
    (root / "api" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    (root / "web" / "img").mkdir(parents=True)
    (root / "web" / "index.html").write_text("<script src='config.js'></script><h1>Reviews</h1>")
    (root / "web" / "error.html").write_text("<h1>Not here</h1>")
    (root / "web" / "app.js").write_text("console.log(window.APP_CONFIG.apiUrl);")
    (root / "web" / "config.js").write_text("// placeholder replaced at deploy time")
    (root / "web" / "img" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return root


def run_program(
    project_dir: Path,
    config: dict[str, str],
    stack: str = "demo-prod",
    timeout: float = 120,
    secret_keys: list[str] | None = None,
    entry: str = "build",
    python: str = sys.executable,
    refusals_expected: bool = False,
    env: dict[str, str] | None = None,
) -> ProgramRun:
    """Run the program in a fresh process with this stack config (as PULUMI_CONFIG); `secret_keys` as `--secret`.

    `entry` is how the program is entered (see program_runner.py); `python` the interpreter whose
    installed orchestrator runs it. A request AWS would refuse fails the call unless `refusals_expected`.
    """
    secret_keys = sorted(
        secret_keys if secret_keys is not None else [key for key in config if key.endswith("apiEnvironment")]
    )
    digest = hashlib.sha256(json.dumps([config, secret_keys, entry, python, env], sort_keys=True).encode()).hexdigest()[
        :12
    ]
    out = project_dir / f"run-{stack}-{digest}.json"
    env = {
        **os.environ,
        **(env or {}),
        "PULUMI_CONFIG": json.dumps(config),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(secret_keys),
        "TEST_STACK": stack,
        "TEST_ENTRY": entry,
    }
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    proc = subprocess.run(
        [python, str(RUNNER), str(out)], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    run = ProgramRun(data["resources"], data["outputs"], data["error"], proc.stderr, data["package"], data["refused"])
    assert refusals_expected or not run.refused, "requests AWS would refuse:\n" + "\n".join(run.refused)
    return run
