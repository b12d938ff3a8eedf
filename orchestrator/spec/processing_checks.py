"""What SageMaker Processing would refuse in a `processing` step, as located diagnostics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..diagnostics import Diagnostic, did_you_mean
from .loader import Document
from .models import Pipeline
from .processing import CODE_INPUT, ProcessingStep
from .text import shown

MAX_ARGUMENT = 256  # AppSpecification.ContainerArguments: each at most 256 characters (API reference)
MAX_ENVIRONMENT = 100  # Environment: at most 100 entries, values up to 256 characters
MAX_ENVIRONMENT_VALUE = 256
MAX_INPUTS = 10  # ProcessingInputs: at most 10 (API reference)
MAX_OUTPUTS = 10  # ProcessingOutputConfig.Outputs: at most 10


def check_processing(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    for name, step in p.steps.items():
        if isinstance(step, ProcessingStep):
            yield from _source(name, step, doc)
            yield from _channels(name, step, doc)
            yield from _limits(name, step, doc)


def _source(name: str, step: ProcessingStep, doc: Document) -> Iterator[Diagnostic]:
    at = ("steps", name)
    sources = [k for k in ("framework", "image") if getattr(step, k)]
    if len(sources) != 1:
        yield doc.diagnostic(
            at,
            f"processing step sets {' and '.join(sources) or 'neither framework nor image'}: choose one",
            "e.g. framework: sklearn and entry_point: prepare.py",
        )
    if step.framework and not step.entry_point:
        yield doc.diagnostic(at, "framework processing needs 'entry_point'", "the script that runs, e.g. prepare.py")
    if step.source_dir and not step.entry_point:
        yield doc.diagnostic(at + ("source_dir",), "source_dir ships with an entry_point", "add entry_point")


def _channels(name: str, step: ProcessingStep, doc: Document) -> Iterator[Diagnostic]:
    at = ("steps", name)
    if step.framework and CODE_INPUT in step.inputs:
        yield doc.diagnostic(
            at + ("inputs", CODE_INPUT),
            f"input name '{CODE_INPUT}' is where the framework processor puts the script",
            "give the input another name",
            key=True,
        )
    seen: set[str] = set()
    for i, output in enumerate(step.outputs):
        if output in seen:
            yield doc.diagnostic(at + ("outputs", i), f"output '{shown(output)}' is listed twice")
        seen.add(output)
    if len(step.inputs) + (1 if step.framework else 0) > MAX_INPUTS:
        yield doc.diagnostic(at + ("inputs",), f"SageMaker takes at most {MAX_INPUTS} processing inputs (code counts)")
    if len(step.outputs) > MAX_OUTPUTS:
        yield doc.diagnostic(at + ("outputs",), f"SageMaker takes at most {MAX_OUTPUTS} processing outputs")
    if step.report and step.report.output not in step.outputs:
        hint = did_you_mean(step.report.output, step.outputs) or (
            "outputs: " + ", ".join(step.outputs) if step.outputs else f"add outputs: [{step.report.output}]"
        )
        yield doc.diagnostic(
            at + ("report", "output"),
            f"report names output '{shown(step.report.output)}', which is not in outputs",
            hint,
        )


def _limits(name: str, step: ProcessingStep, doc: Document) -> Iterator[Diagnostic]:
    at = ("steps", name)
    for i, argument in enumerate(step.arguments):
        if len(argument) > MAX_ARGUMENT and "${" not in argument:
            yield doc.diagnostic(
                at + ("arguments", i),
                f"argument of {len(argument)} characters; SageMaker takes at most {MAX_ARGUMENT}",
                "pass large values as an input (a file) instead",
            )
    if len(step.environment) > MAX_ENVIRONMENT:
        yield doc.diagnostic(at + ("environment",), f"SageMaker takes at most {MAX_ENVIRONMENT} environment variables")
    for key, value in step.environment.items():
        if len(value) > MAX_ENVIRONMENT_VALUE and "${" not in value:
            yield doc.diagnostic(
                at + ("environment", key),
                f"environment value of {len(value)} characters; processing jobs take at most {MAX_ENVIRONMENT_VALUE}",
            )


def gate_source_problems(p: Pipeline, doc: Document, endpoint: str, source: str) -> Iterator[Diagnostic]:
    """`promote_when.from` names a processing step whose report holds the gate's metric.

    The report's keys are known only once the job wrote it, so the metric is checked when the gate runs.
    """
    at = ("steps", endpoint, "promote_when", "from")
    step = p.steps.get(source)
    reporting = [n for n, s in p.steps.items() if isinstance(s, ProcessingStep) and s.report is not None]
    if step is None:
        hint = did_you_mean(source, p.steps) or (
            "processing steps with a report: " + ", ".join(reporting) if reporting else None
        )
        yield doc.diagnostic(at, f"promote_when.from names no step '{shown(source)}'", hint)
    elif not isinstance(step, ProcessingStep):
        yield doc.diagnostic(
            at,
            f"promote_when.from names '{shown(source)}', a {step.type} step; it must be a processing step with a report",
            "drop 'from' to gate on the training's metrics",
        )
    elif step.report is None:
        yield doc.diagnostic(
            at,
            f"processing step '{shown(source)}' has no report to read the metric from",
            f"add report: {{output: ..., file: evaluation.json}} to step '{source}'",
        )
