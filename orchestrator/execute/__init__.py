"""The execute stage: the only code that changes the world, and what it records while doing so."""

from .executor import Executor, RunOutcome, StepEvents, execute

__all__ = ["Executor", "RunOutcome", "StepEvents", "execute"]
