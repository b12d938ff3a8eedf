"""`validate` and `schema`: is the spec right, and what shape must it have."""

from __future__ import annotations

import sys

from ..errors import EXIT_OK, EXIT_USAGE, DiagnosticError
from .common import TargetClasses, load_spec
from .output import emit, emit_json


def validate(args, targets: TargetClasses) -> int:
    try:
        spec = load_spec(args.file, targets)
    except DiagnosticError as exc:
        if args.json:
            emit_json({"valid": False, "problems": [d.as_dict() for d in exc.diagnostics]})
        sys.stderr.write(exc.render())
        errors = sum(d.severity == "error" for d in exc.diagnostics)
        sys.stderr.write(f"{errors} problem{'s' if errors != 1 else ''} found in {args.file}\n")
        return EXIT_USAGE
    if args.json:
        emit_json(
            {
                "valid": True,
                "pipeline": spec.pipeline.name,
                "steps": list(spec.graph.order),
                "problems": [d.as_dict() for d in spec.warnings],
            }
        )
    else:
        sys.stderr.write("".join(d.render() + "\n" for d in spec.warnings))
        emit(f"{args.file}: valid ({len(spec.graph.order)} steps: {' -> '.join(spec.graph.order)})")
    return EXIT_OK


def schema(args, targets: TargetClasses) -> int:
    from ..spec.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK
