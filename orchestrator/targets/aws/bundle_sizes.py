"""What `plan` says of lambda routes with requirements: the size of their bundle, refused above Lambda's.

The requirements are resolved for the route's runtime (`lambda_deps`, cached by content,
so the run reuses them) and counted with the files the route ships (the shared rule of
`targets/lambda_bundle.py`): a bundle Lambda cannot take fails `plan`, and `run` before
anything is spent, with its size and its biggest packages.
"""

from __future__ import annotations

from pathlib import Path

from ...spec.kinds import HANDLER
from ...spec.models import ApiStep, Pipeline
from ..base import TargetError
from ..lambda_bundle import bundle_files, private_folders
from .lambda_deps import (
    DependencyError,
    Installer,
    has_requirements,
    megabytes,
    package_sizes,
    pip_install,
    resolve,
    too_big,
)

WRAPPER_ALLOWANCE = 8 * 1024  # the wrapper a route may ship besides its own files (targets/lambda_shim.py)


def bundle_notes(
    pipeline: Pipeline, project_dir: Path, state_dir: Path, install: Installer = pip_install, cache: Path | None = None
) -> list[str]:
    """One sentence per lambda route with requirements; TargetError for one whose bundle Lambda refuses."""
    notes = []
    for name, step in pipeline.steps.items():
        if not isinstance(step, ApiStep):
            continue
        private = private_folders(pipeline, project_dir, state_dir, name)
        for i, route in enumerate(step.routes):
            handler = HANDLER.match(route.handler or "")
            requirements = project_dir / route.requirements if route.requirements else None
            if route.integration != "lambda" or handler is None or not has_requirements(requirements):
                continue
            assert requirements is not None
            where = f"steps.{name}.routes[{i}] ({route.method} {route.path})"
            try:
                vendored = resolve(requirements, route.runtime, cache, install)
            except DependencyError as exc:
                raise TargetError(
                    f"{where}: {exc}", "pin versions that publish wheels for the route's runtime"
                ) from exc
            packages = package_sizes(vendored)
            own = sum(
                path.stat().st_size for _, path in bundle_files(project_dir, project_dir / handler["file"], private)
            )
            total = own + sum(size for _, size in packages) + WRAPPER_ALLOWANCE
            refused = too_big(f"{where}: its Lambda bundle", total, packages)
            if refused:
                raise TargetError(
                    refused, "drop or replace the biggest requirements (or serve the work from the endpoint)"
                )
            notes.append(f"lambda {route.method} {route.path}: bundle {megabytes(total)} unzipped, for {route.runtime}")
    return notes
