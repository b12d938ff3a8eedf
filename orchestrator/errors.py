"""The error family: every failure a user can act on says what happened, what to do, and how to exit.

`OrchestratorError` carries a message, a hint and an exit code; the CLI renders any
of them the same way, so no command needs its own ladder of exception types.
Anything else that escapes is a bug: one line, or a traceback with --debug.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .diagnostics import Diagnostic

EXIT_OK = 0  # success
EXIT_FAILED = 1  # the run failed (or could not take the lock)
EXIT_USAGE = 2  # bad input or usage: nothing was changed
EXIT_CHANGES = 3  # plan --exit-code: something would change; run --fail-on-reject: a gate kept the live model


class OrchestratorError(Exception):
    """A failure with a message for the user, a hint of what to do, and the exit code it ends with."""

    exit_code = EXIT_FAILED
    label = "error"

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"{self.label}: {self.message}\n" + (f"  hint: {self.hint}\n" if self.hint else "")


class DiagnosticError(OrchestratorError):
    """One or more located problems in a spec; all are printed, then exit 2."""

    exit_code = EXIT_USAGE

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.col, d.message))
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def render(self) -> str:
        return "".join(d.render() + "\n" for d in self.diagnostics)


class UsageError(OrchestratorError):
    """Bad command-line use or a request that cannot be honoured; nothing was changed."""

    exit_code = EXIT_USAGE


class TargetError(OrchestratorError):
    """The target cannot work at all (no credentials, a missing tool); found before anything is spent."""

    exit_code = EXIT_USAGE


class StepFailed(OrchestratorError):
    """A step failed for a reason the user can act on; `detail` (a log tail, say) is shown below it."""

    def __init__(self, message: str, detail: str = "", details: dict[str, Any] | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.detail = detail
        self.details = details or {}


class RunFailed(OrchestratorError):
    """A run stopped at a failed step; its record says where, and the next run resumes there."""

    def __init__(self, run_id: int, step: str, message: str, detail: str = ""):
        super().__init__(message)
        self.run_id = run_id
        self.step = step
        self.detail = detail
        self.others: tuple[RunFailed, ...] = ()  # steps that failed at the same time, when steps ran at once
