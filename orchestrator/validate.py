"""Validation as one function: load, shape, types, cross-field checks, references, graph.

Every stage collects all of its problems; the first stage that finds any stops
the pipeline there (later stages would only repeat them as noise).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic
from .errors import DiagnosticError
from .graph import Graph, build_graph, reference_diagnostics
from .spec.checks import run_checks
from .spec.kinds import KINDS
from .spec.loader import Document, load_file
from .spec.models import Pipeline
from .spec.paths import text_problem
from .spec.schema import schema_diagnostics
from .spec.text import shown


@dataclass(frozen=True)
class Spec:
    """A valid pipeline, with everything later stages need to plan and run it."""

    file: Path  # the spec file, absolute
    display: str  # the spec path as the user typed it, for messages and commands
    doc: Document
    pipeline: Pipeline
    graph: Graph
    warnings: tuple[Diagnostic, ...] = ()  # what the target ignores or only approximates; not fatal

    @property
    def root(self) -> Path:
        return self.file.parent

    @property
    def state_dir(self) -> Path:
        return state_dir_of(self.pipeline, self.root)

    def kind(self, step: str) -> str:
        return self.pipeline.steps[step].type


MAX_EXPLAINED = 100  # type problems explained one by one; past that, a spec needs rewriting, not a list

TargetChecks = Callable[[Pipeline, Document, Path], list[Diagnostic]]


def state_dir_of(pipeline: Pipeline, root: Path) -> Path:
    """The local folder for state and the local target's files (also with state in S3)."""
    return (root / pipeline.local_folder()).resolve()


def validate_file(
    path: str | os.PathLike,
    env: Mapping[str, str] | None = None,
    strict_env: bool = True,
    target_checks: TargetChecks | None = None,
) -> Spec:
    """Return the valid spec or raise DiagnosticError with every problem found.

    `strict_env=False` is for commands that only read state: an unset ${env:...} is no error there.
    `target_checks` adds the rules of the target the spec will run on (the caller picks it).
    """
    display = str(path)
    doc = load_file(path, env=env, display=display, strict_env=strict_env)
    pipeline = _typed(doc)
    root = Path(path).resolve().parent
    problems = reference_diagnostics(doc, pipeline) + run_checks(pipeline, doc, root)
    if not pipeline.state.startswith("s3://"):
        problems += _state_dir_problems(doc, root, pipeline.state)
    if target_checks is not None:
        problems += target_checks(pipeline, doc, root)
    if any(d.severity == "error" for d in problems):
        raise DiagnosticError(problems)
    graph = build_graph(doc)
    warnings = tuple(sorted(problems, key=lambda d: (d.line, d.col, d.message)))
    return Spec(Path(path).resolve(), display, doc, pipeline, graph, warnings)


def _typed(doc: Document) -> Pipeline:
    """Types via pydantic (strict, so it accepts exactly what the schema does).

    A valid spec never pays for JSON Schema; an invalid one is explained by it,
    because its errors carry did-you-mean hints and precise paths.
    """
    from pydantic import ValidationError

    try:
        return Pipeline.model_validate(doc.data, strict=True)
    except ValidationError as exc:
        if exc.error_count() > MAX_EXPLAINED:  # JSON Schema's explanation of 100,000 wrong items takes minutes
            shown = [_from_pydantic(doc, err) for err in exc.errors()[:MAX_EXPLAINED]]
            rest = doc.diagnostic((), f"{exc.error_count() - MAX_EXPLAINED} more problems like these are not shown")
            raise DiagnosticError([*shown, rest]) from None
        problems = schema_diagnostics(doc) or [_from_pydantic(doc, err) for err in exc.errors()]
        raise DiagnosticError(problems) from None


def _from_pydantic(doc: Document, err: dict) -> Diagnostic:
    loc = list(err["loc"])
    if len(loc) > 2 and loc[0] == "steps" and loc[2] in KINDS:
        del loc[2]  # pydantic adds the union member's tag to the location
    return doc.diagnostic(tuple(loc), shown(err["msg"], 300))


def _state_dir_problems(doc: Document, root: Path, state: str) -> list[Diagnostic]:
    problem = text_problem(state, "state folder")
    if problem:
        return [doc.diagnostic(("state",), *problem)]
    resolved = (root / state).resolve()
    if resolved != root and root not in resolved.parents:
        return [
            doc.diagnostic(
                ("state",),
                f"state folder '{shown(state)}' is outside the project folder",
                "use a folder beside the spec (default .orchestrator) or s3://bucket/prefix",
            )
        ]
    try:
        if resolved.exists() and not resolved.is_dir():
            return [doc.diagnostic(("state",), f"state folder '{shown(state)}' exists and is not a folder")]
    except OSError as exc:  # the project folder's path plus this one is too long
        return [doc.diagnostic(("state",), f"cannot use state folder '{shown(state)}': {exc.strerror or exc}")]
    return []
