"""How a run looks in a terminal: a line per step, each step's log, and what is running now.

Steps may run at the same time: every line a step logs carries its name, and at a
terminal a status line lists each running step with its time and latest state.
rich is imported here only, and only by commands that run things, so `validate`
and `plan` start fast.
"""

from __future__ import annotations

import threading
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
QUIET_STATUSES = ("skipped", "kept", "rejected")  # no time shown: nothing ran


class ConsoleUI(StepEvents):
    """Reporter and step events on stderr; works the same, without animation, when not a terminal."""

    def __init__(self, quiet: bool = False):
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self._lock = threading.RLock()
        self._running: dict[str, list] = {}  # step -> [started, latest status text]
        self._spinner = None

    # -- StepEvents ------------------------------------------------------------

    def step_started(self, op: Op) -> None:
        with self._lock:
            self._running[op.step] = [time.monotonic(), f"{op.action}…"]
            self.console.print(f"[bold]→ {op.step}[/] {op.action}: {_esc(op.why)}")
            self._redraw()

    def step_finished(self, op: Op, status: str, message: str) -> None:
        with self._lock:
            started = self._running.pop(op.step, [time.monotonic()])[0]
            mark = MARKS.get(status, "·")
            took = f" [dim]({time.monotonic() - started:.1f} s)[/]" if status not in QUIET_STATUSES else ""
            text = f" {message}" if message else ""
            self.console.print(f"{mark} [bold]{op.step}[/] {status}{took}{':' if text else ''}{_esc(text)}")
            self._redraw()

    def reporter_for(self, op: Op) -> StepReporter:
        return StepReporter(self, op.step)

    # -- Reporter (for what is not about one step) ----------------------------------

    def log(self, line: str) -> None:
        self.step_log("", line)

    def status(self, text: str) -> None:
        self.step_status("", text)

    def info(self, text: str) -> None:
        self.console.print(f"  {_esc(text)}")

    def warn(self, text: str) -> None:
        self.console.print(f"  [yellow]warning:[/] {_esc(text)}")

    def error(self, text: str) -> None:
        with self._lock:
            self._stop_spinner()
            self.console.print(f"[red]error:[/] {_esc(text)}")

    # -- one step's lines ---------------------------------------------------------------

    def step_log(self, step: str, line: str) -> None:
        if not self.quiet:
            prefix = f"[dim]{_esc(step)} |[/] " if step else ""
            self.console.print(f"  {prefix}{_esc(line)}")

    def step_status(self, step: str, text: str) -> None:
        with self._lock:
            if step in self._running:
                self._running[step][1] = text
            if self.console.is_terminal:
                self._redraw()
            elif not self.quiet:
                self.console.print(f"  [dim]{_esc(step)}{': ' if step else ''}{_esc(text)}[/]")

    def _redraw(self) -> None:
        """At a terminal, one status line naming every running step; none elsewhere."""
        if not self.console.is_terminal:
            return
        if not self._running:
            self._stop_spinner()
            return
        now = time.monotonic()
        text = " · ".join(
            f"{_esc(step)} {now - started:.0f} s: {_esc(state)}" for step, (started, state) in self._running.items()
        )
        if self._spinner is None:
            self._spinner = self.console.status(text)
            self._spinner.start()
        else:
            self._spinner.update(text)

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None


class StepReporter:
    """The Reporter a step's target sees: its lines and status carry the step's name."""

    def __init__(self, ui: ConsoleUI, step: str):
        self.ui = ui
        self.step = step

    def log(self, line: str) -> None:
        self.ui.step_log(self.step, line)

    def status(self, text: str) -> None:
        self.ui.step_status(self.step, text)

    def info(self, text: str) -> None:
        self.ui.info(text)

    def warn(self, text: str) -> None:
        self.ui.warn(text)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
