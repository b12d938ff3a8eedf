"""How a run looks in a terminal: a line per step, the step's log, a spinner for long work.

rich is imported here only, and only by commands that run things, so
`validate` and `plan` start fast.
"""

from __future__ import annotations

import time

from ..execute import StepEvents
from ..plan import Op

MARKS = {
    "succeeded": "[green]✓[/]",
    "skipped": "[dim]=[/]",
    "kept": "[dim]=[/]",
    "failed": "[red]✗[/]",
    "destroyed": "[yellow]-[/]",
    "interrupted": "[red]![/]",
    "rejected": "[yellow]≠[/]",
}


class ConsoleUI(StepEvents):
    """Reporter and step events on stderr; works the same, without animation, when not a terminal."""

    def __init__(self, quiet: bool = False):
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self._status = None
        self._step = ""
        self._started = 0.0

    # -- StepEvents ------------------------------------------------------------

    def step_started(self, op: Op) -> None:
        self._step, self._started = op.step, time.monotonic()
        self.console.print(f"[bold]→ {op.step}[/] {op.action}: {_esc(op.why)}")
        if self.console.is_terminal:
            self._status = self.console.status(f"{op.step}: {op.action}…")
            self._status.start()

    def step_finished(self, op: Op, status: str, message: str) -> None:
        self._stop_spinner()
        mark = MARKS.get(status, "·")
        took = (
            f" [dim]({time.monotonic() - self._started:.1f} s)[/]"
            if status not in ("skipped", "kept", "rejected")
            else ""
        )
        text = f" {message}" if message else ""
        self.console.print(f"{mark} [bold]{op.step}[/] {status}{took}{':' if text else ''}{_esc(text)}")

    # -- Reporter --------------------------------------------------------------

    def log(self, line: str) -> None:
        if not self.quiet:
            self.console.print(f"  [dim]{self._step} |[/] {_esc(line)}")

    def status(self, text: str) -> None:
        if self._status is not None:
            self._status.update(f"{self._step}: {_esc(text)}")
        elif not self.quiet:
            self.console.print(f"  [dim]{self._step}: {_esc(text)}[/]")

    def info(self, text: str) -> None:
        self.console.print(f"  {_esc(text)}")

    def warn(self, text: str) -> None:
        self.console.print(f"  [yellow]warning:[/] {_esc(text)}")

    def error(self, text: str) -> None:
        self._stop_spinner()
        self.console.print(f"[red]error:[/] {_esc(text)}")

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
