"""`export`: the OpenAPI document an `api` step deploys, for people to read, diff in review,
or import into other tools. Offline: it reads the spec, not the cloud, so ARNs name the
pipeline's functions in a placeholder account until a deploy fills in the real ones."""

from __future__ import annotations

from pathlib import Path

from ..apidoc import compile_document, document_json, offline_values, resolve_refs
from ..apidoc.values import static_outputs
from ..diagnostics import did_you_mean
from ..errors import EXIT_OK, UsageError
from ..graph import told_refs
from ..spec.models import ApiStep
from ..validate import Spec
from .common import TargetClasses, command_line, load_spec, make_target
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
    api = resolve_refs(step, {**static_outputs(pipeline), **told_outputs(spec, name, targets, args.target)})
    text = document_json(compile_document(api, offline_values(pipeline, name, api)))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        emit(text)
    return EXIT_OK


def told_outputs(spec: Spec, name: str, targets: TargetClasses, asked: str | None) -> dict[str, dict[str, str]]:
    """Outputs the step reads before their step runs (a site's origin in its CORS), as the target
    has settled them; one not settled yet (the pipeline never ran) cannot be exported."""
    raw = spec.doc.data["steps"]
    refs = told_refs(raw, [name])
    if not refs:
        return {}
    from ..state import open_store  # only here: reading state is needed only for such a reference

    store = open_store(spec.pipeline, spec.root, create=False)
    target = make_target(asked or spec.pipeline.target, spec, targets, None)
    recorded = {step: res.outputs for step, res in store.resources().items()}
    known = target.known_outputs(list(dict.fromkeys(r.step for r in refs)), recorded)
    missing = [r for r in refs if r.output not in known.get(r.step, {})]
    if missing:
        ref = f"${{steps.{missing[0].step}.outputs.{missing[0].output}}}"
        raise UsageError(
            f"step '{name}' names {ref}, which is decided when the pipeline first runs",
            f"run it once ({command_line('run', spec.display)}), then export",
        )
    return known


def _choices(display: str, apis: list[str]) -> str:
    return "api steps: " + ", ".join(apis) + f" (e.g. {command_line('export', display, '--api', apis[0])})"
