"""What the `invoke` tests share: the CLI in-process with its real targets, and recorded state
for a deployed step written the way a run records it (for worlds a test cannot start)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from orchestrator.cli import main
from orchestrator.state import Resource, StepRun, open_store
from orchestrator.validate import validate_file


def invoke(capsys, spec: Path, *argv: str) -> tuple[int, str, str]:
    """`invoke SPEC ARGV...`: exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(["invoke", str(spec), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def record_deployed(spec: Path, step: str, outputs: dict[str, Any], target: str) -> None:
    """Record `step` as deployed by a succeeded run on `target`, with these outputs."""
    loaded = validate_file(str(spec), strict_env=False)
    store = open_store(loaded.pipeline, loaded.root)
    try:
        kind = loaded.kind(step)
        run = store.begin_run(loaded.pipeline.name, target, f"python -m orchestrator run {spec.name}")
        store.step_started(StepRun(run.id, step, kind, "run", "running", "fp-" + step, time.time()))
        resource = Resource(step, kind, "fp-" + step, {}, outputs, {}, {}, run.id, time.time(), target=target)
        store.step_finished(run.id, step, "succeeded", outputs=outputs, resource=resource)
        store.finish_run(run.id, "succeeded")
    finally:
        store.close()


def closed_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
