"""A FakeTarget whose step waits while a `gate-<step>` file exists in the state folder:
a test holds a run mid-step, acts on it, then lets it go on (FakeTarget's own hang never ends)."""

from __future__ import annotations

import time

from tests.fakes import FakeTarget

RUNNER = (
    "import sys; from orchestrator.cli import main; from tests.state.gated import GatedTarget; "
    "sys.exit(main(sys.argv[1:], targets={'local': GatedTarget}))"
)


class GatedTarget(FakeTarget):
    def _maybe_fail(self, step: str) -> None:
        gate = self.state_dir / f"gate-{step}"
        if gate.exists():
            self._log(op="hang", step=step)
            deadline = time.monotonic() + 120
            while gate.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        super()._maybe_fail(step)
