"""`export`: the OpenAPI document an `api` step deploys, for people to read, diff in review,
or import into other tools. Offline: it reads the spec, not the cloud, so ARNs name the
pipeline's functions in a placeholder account until a deploy fills in the real ones."""

from __future__ import annotations

from pathlib import Path

from ..apidoc import compile_document, document_json, offline_values, resolve_refs
from ..apidoc.values import static_outputs
from ..diagnostics import did_you_mean
from ..errors import EXIT_OK, UsageError
from ..spec.models import ApiStep
from .common import TargetClasses, command_line, load_spec
from .output import emit


def export(args, targets: TargetClasses) -> int:
    spec = load_spec(args.file, targets, args.target)
    pipeline = spec.pipeline
    apis = [name for name, step in pipeline.steps.items() if isinstance(step, ApiStep)]
    if not apis:
        raise UsageError(f"{spec.display} has no api step to export", "add a step with type: api")
    name = args.api or (apis[0] if len(apis) == 1 else None)
    if name is None:
        raise UsageError(f"{spec.display} has {len(apis)} api steps: name one with --api", _choices(spec.display, apis))
    step = pipeline.steps.get(name)
    if step is None:
        raise UsageError(
            f"--api {args.api}: no step named '{args.api}' in {spec.display}",
            did_you_mean(args.api, pipeline.steps) or _choices(spec.display, apis),
        )
    if not isinstance(step, ApiStep):
        raise UsageError(
            f"--api {args.api}: step '{args.api}' is of type {step.type}, not api",
            _choices(spec.display, apis),
        )
    api = resolve_refs(step, static_outputs(pipeline))
    text = document_json(compile_document(api, offline_values(pipeline, name, api)))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        emit(text)
    return EXIT_OK


def _choices(display: str, apis: list[str]) -> str:
    return "api steps: " + ", ".join(apis) + f" (e.g. {command_line('export', display, '--api', apis[0])})"
