"""Named cross-field checks: what a schema cannot say but SageMaker or AWS would refuse.

Each check is a small function taking the typed pipeline and the document (for
positions) and returning diagnostics, so all problems are reported at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..diagnostics import Diagnostic, did_you_mean
from .instance_types import hosting_types, training_types
from .kinds import KINDS
from .loader import Document
from .models import EndpointStep, Pipeline, TrainingStep, WebsiteStep
from .names import endpoint_name
from .paths import REF_OR_ENV, path_problems, text_problem
from .processing import ProcessingStep, processing_types
from .processing_checks import check_processing, gate_source_problems
from .refs import REF
from .route_checks import ROUTE_CHECKS
from .service_checks import SERVICE_CHECKS
from .text import shown
from .transform import check_transforms
from .tuning import check_tuning, check_tuning_training

ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# SageMaker CreateTrainingJob HyperParameters: at most 100 entries, keys up to 256 characters,
# values up to 2,500 (API reference, Length Constraints). Script mode adds three of its own
# (sagemaker_program, sagemaker_submit_directory, sagemaker_region) and JSON-encodes each value.
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_KEY = 256
MAX_HYPERPARAMETER_VALUE = 2500
SCRIPT_MODE_HYPERPARAMETERS = 3

Check = Callable[[Pipeline, Document, Path], Iterator[Diagnostic]]


def _steps(pipeline: Pipeline, kind: type) -> Iterator[tuple[str, object]]:
    for name, step in pipeline.steps.items():
        if isinstance(step, kind):
            yield name, step


def check_training_source(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    for name, step in _steps(p, TrainingStep):
        at = ("steps", name)
        sources = [k for k in ("framework", "algorithm", "image") if getattr(step, k)]
        if len(sources) != 1:
            msg = "choose one of 'framework' (with entry_point), 'algorithm' or 'image'"
            yield doc.diagnostic(
                at,
                f"training step sets {', '.join(sources) or 'none of them'}: {msg}",
                "e.g. framework: sklearn and entry_point: train.py",
            )
        if step.framework and not step.entry_point:
            yield doc.diagnostic(
                at, "framework training needs 'entry_point'", "the script that trains, e.g. models/train.py"
            )
        if step.algorithm and step.entry_point:
            yield doc.diagnostic(
                at + ("entry_point",),
                "built-in algorithms take no entry_point",
                "remove entry_point, or use framework: instead of algorithm:",
            )
        if step.algorithm and "train" not in step.inputs:
            yield doc.diagnostic(
                at + ("inputs",),
                f"algorithm '{step.algorithm}' needs a 'train' input channel",
                "inputs: {train: data/train.csv}",
            )
        for i, metric in enumerate(step.metrics):
            try:
                groups = re.compile(metric.regex).groups
            except re.error as exc:
                yield doc.diagnostic(at + ("metrics", i, "regex"), f"invalid regex: {shown(exc, 200)}")
                continue
            if groups < 1:
                yield doc.diagnostic(
                    at + ("metrics", i, "regex"),
                    "the regex needs a group that captures the value",
                    "e.g. 'accuracy=([0-9.]+)'",
                )


# Which instance types each kind of job runs on; the rest are endpoints (hosting).
INSTANCE_RULES = {TrainingStep: (training_types, "training"), ProcessingStep: (processing_types, "processing")}


def check_instance_types(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    for name, step in p.steps.items():
        instance = getattr(step, "instance", None)
        if instance is None:
            continue
        types, what = next(
            (rule for kind, rule in INSTANCE_RULES.items() if isinstance(step, kind)), (hosting_types, "endpoints")
        )
        valid = types()
        if hasattr(step, "INSTANCE_TYPES"):  # a kind with its own list (e.g. batch transform)
            valid, what = step.INSTANCE_TYPES(), step.INSTANCE_USE
        if instance.type not in valid:
            other = hosting_types() if what == "training" else training_types()
            if instance.type in other:
                hint = f"{instance.type} can serve endpoints but not train" if what == "training" else None
            else:
                hint = did_you_mean(instance.type, valid) or "instance types look like ml.m5.large"
            yield doc.diagnostic(
                ("steps", name, "instance", "type"), f"unknown instance type '{shown(instance.type)}' for {what}", hint
            )


def check_endpoints(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for name, step in _steps(p, EndpointStep):
        at = ("steps", name)
        if step.instance and step.serverless:
            yield doc.diagnostic(at, "set either 'instance' or 'serverless', not both")
        if not step.instance and not step.serverless:
            yield doc.diagnostic(
                at,
                "an endpoint needs 'instance' or 'serverless'",
                "e.g. instance: {type: ml.t2.medium} or serverless: {memory_mb: 2048}",
            )
        yield from _autoscaling_problems(name, step, doc)
        final = endpoint_name(p.name, name, step.endpoint_name)
        if REF_OR_ENV.search(final):
            continue
        where = at + ("endpoint_name",) if step.endpoint_name else ("name",)
        if not ENDPOINT_NAME.match(final):
            yield doc.diagnostic(
                where,
                f"endpoint name '{shown(final)}' is not valid for SageMaker",
                "1-63 characters of letters, digits and '-', not starting or ending with '-'",
            )
        if final in seen:
            yield doc.diagnostic(where, f"endpoint name '{shown(final)}' is also used by step '{seen[final]}'")
        seen[final] = name


def _autoscaling_problems(name: str, step: EndpointStep, doc: Document) -> Iterator[Diagnostic]:
    scaling = step.autoscaling
    if scaling is None:
        return
    at = ("steps", name, "autoscaling")
    if step.serverless:
        yield doc.diagnostic(
            at,
            "autoscaling is for real-time endpoints; a serverless endpoint scales by its concurrency",
            "remove autoscaling, or raise serverless.max_concurrency; or use instance: instead of serverless:",
            key=True,
        )
    if scaling.min > scaling.max:
        yield doc.diagnostic(
            at + ("min",), f"autoscaling min ({scaling.min}) is over max ({scaling.max})", "min must be at most max"
        )


def check_promotion_metric(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    for name, step in _steps(p, EndpointStep):
        gate = step.promote_when
        if not gate:
            continue
        m = REF.fullmatch(step.model)
        source = p.steps.get(m.group(1)) if m else None
        if gate.from_ is not None:
            yield from gate_source_problems(p, doc, name, gate.from_)
        elif isinstance(source, TrainingStep):
            names = [metric.name for metric in source.metrics]
            if gate.metric not in names:
                hint = did_you_mean(gate.metric, names) or (
                    f"step '{m.group(1)}' defines no metrics: add metrics: [{{name: {shown(gate.metric)}, regex: ...}}]"
                    if not names
                    else "its metrics are " + ", ".join(f"'{n}'" for n in names)
                )
                yield doc.diagnostic(
                    ("steps", name, "promote_when", "metric"),
                    f"training step '{m.group(1)}' records no metric '{shown(gate.metric)}'",
                    hint,
                )
        if gate.at_least is None and gate.at_most is None and not gate.beats_live:
            yield doc.diagnostic(
                ("steps", name, "promote_when"), "the gate checks nothing", "set at_least, at_most or beats_live: true"
            )


def check_paths(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """Files the spec names must exist and stay inside the project folder."""
    verdicts: dict[tuple[str, str], list[tuple[str, str | None]]] = {}  # many steps name the same file
    for name, step in p.steps.items():
        for path in KINDS[step.type].paths(step):
            key = (path.value, path.expect)
            if key not in verdicts:
                verdicts[key] = list(path_problems(root, path.value, path.expect))
            for message, hint in verdicts[key]:
                yield doc.diagnostic(("steps", name, *path.at), message, hint)


def check_website_source(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """A site's folder holds its index page, and is neither the project nor the state folder."""
    for name, step in _steps(p, WebsiteStep):
        at = ("steps", name)
        if text_problem(step.source) or not _is_dir(root / step.source):
            continue  # check_paths says so
        long_names = {field: text_problem(getattr(step, field), "document") for field in ("index", "error")}
        for field, problem in long_names.items():
            if problem:
                yield doc.diagnostic(at + (field,), *problem)
        if not long_names["index"] and not _is_file(root / step.source / step.index):
            yield doc.diagnostic(
                at + ("index",), f"index document '{shown(step.index)}' not found in {shown(step.source)}"
            )
        source = (root / step.source).resolve()
        state = (root / p.state).resolve() if "://" not in p.state else None
        if source == root or (state is not None and (state == source or source in state.parents)):
            yield doc.diagnostic(
                at + ("source",),
                f"website source '{shown(step.source)}' would publish the project folder, or the state folder inside it",
                "keep the site's files in a folder of their own, e.g. source: web",
            )


def check_single_website(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """One site per pipeline: on aws it is one bucket in the pipeline's stack."""
    websites = [name for name, step in p.steps.items() if isinstance(step, WebsiteStep)]
    for name in websites[1:]:
        yield doc.diagnostic(
            ("steps", name),
            f"a pipeline has one website; '{websites[0]}' is already one",
            "put the pages in one source folder",
        )


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # too long once joined to the project folder: check_paths says so
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def check_hyperparameters(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    """SageMaker's limits on hyperparameters, on the values as the job receives them."""
    for name, step in _steps(p, TrainingStep):
        at = ("steps", name, "hyperparameters")
        most = MAX_HYPERPARAMETERS - (SCRIPT_MODE_HYPERPARAMETERS if step.framework else 0)
        if len(step.hyperparameters) > most:
            yield doc.diagnostic(
                at,
                f"{len(step.hyperparameters)} hyperparameters; SageMaker takes at most {most}"
                + (f" besides the {SCRIPT_MODE_HYPERPARAMETERS} script mode adds" if step.framework else ""),
                "pass a configuration file as an input channel instead",
            )
        for key, value in step.hyperparameters.items():
            if len(key) > MAX_HYPERPARAMETER_KEY:
                yield doc.diagnostic(
                    at + (key,),
                    f"hyperparameter name '{shown(key, 40)}' has {len(key)} characters; "
                    f"SageMaker takes at most {MAX_HYPERPARAMETER_KEY}",
                    key=True,
                )
            sent = (
                json.dumps(value)
                if step.framework
                else (str(value).lower() if value is True or value is False else str(value))
            )
            if len(sent) > MAX_HYPERPARAMETER_VALUE and not REF.search(sent):
                yield doc.diagnostic(
                    at + (key,),
                    f"hyperparameter '{shown(key, 40)}' is {len(sent)} characters as SageMaker receives it; "
                    f"the limit is {MAX_HYPERPARAMETER_VALUE}",
                    "pass large values as an input channel (a file) instead",
                )


def check_schedule(p: Pipeline, doc: Document, root: Path) -> Iterator[Diagnostic]:
    if p.schedule:
        from . import cron  # only a spec with a schedule pays for the cron parser

        try:
            cron.parse(p.schedule.retrain)
        except cron.CronError as exc:
            yield doc.diagnostic(
                ("schedule", "retrain"),
                f"invalid schedule '{shown(p.schedule.retrain)}': {shown(exc, 200)}",
                "e.g. cron(0 3 * * ? *) for 03:00 UTC daily, or rate(1 day)",
            )
        if not any(isinstance(s, TrainingStep) for s in p.steps.values()):
            yield doc.diagnostic(("schedule",), "a retrain schedule needs a training step")


CHECKS: tuple[Check, ...] = (
    check_training_source,
    check_processing,
    check_hyperparameters,
    check_instance_types,
    check_endpoints,
    check_promotion_metric,
    *ROUTE_CHECKS,
    check_paths,
    check_website_source,
    check_single_website,
    check_schedule,
    *SERVICE_CHECKS,
    check_transforms,
    check_tuning,
    check_tuning_training,
)


def run_checks(pipeline: Pipeline, doc: Document, root: Path) -> list[Diagnostic]:
    return [d for check in CHECKS for d in check(pipeline, doc, root)]
