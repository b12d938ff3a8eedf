"""Build a lambda route's bundle: one zip of its files, its requirements' wheels and the wrapper.

Kept free of Pulumi so it is testable on its own. Which of the project's files go in
is the rule the local target's Lambdas follow too (`targets/lambda_bundle.py`: the
handler's folder by the one file rule, never the state folder or what other steps
own); the requirements are the wheels of the route's runtime (`lambda_deps`). The zip
is written by `files.pack_zip`, whose bytes depend only on names and content, and is
kept under a key of what goes into it, so an unchanged route is neither repacked nor
redeployed, on this machine or another. Above 250 MB unzipped it is refused, naming
the biggest packages.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .....files import file_digest, pack_zip, tree_digest
from ....lambda_bundle import bundle_files
from ...lambda_deps import (
    MARKER,
    DependencyError,
    Installer,
    has_requirements,
    package_sizes,
    pip_install,
    requirements_digest,
    resolve,
    too_big,
)

__all__ = ["Bundle", "PackagingError", "build_bundle", "handler_parts", "lambda_handler_setting"]


class PackagingError(RuntimeError):
    """The handler or its requirements could not be packaged."""


@dataclass(frozen=True)
class Bundle:
    path: Path  # the zip
    zipped: int  # bytes of the zip
    unzipped: int  # bytes of what it holds
    packages: list[tuple[str, int]]  # the vendored packages, biggest first

    @property
    def sha256(self) -> str:
        return file_digest(self.path)

    @property
    def source_code_hash(self) -> str:
        """What Lambda reports as CodeSha256: the zip's sha256, base64."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()


def handler_parts(handler: str) -> tuple[str, str]:
    """`api/handler.py:lambda_handler` -> (`api/handler.py`, `lambda_handler`)."""
    file, sep, function = handler.rpartition(":")
    if not sep or not file.endswith(".py") or not function.isidentifier():
        raise PackagingError(f"handler {handler!r} must look like path/to/file.py:function")
    return file, function


def lambda_handler_setting(handler: str) -> str:
    """The Lambda `handler` setting: module.function, relative to the bundle root (the file's folder)."""
    file, function = handler_parts(handler)
    return f"{Path(file).stem}.{function}"


def build_bundle(
    project_dir: Path,
    handler_file: Path,
    requirements: Path | None,
    build_root: Path,
    runtime: str = "python3.12",
    *,
    private: Iterable[Path] = (),
    extra_files: Mapping[str, Path] | None = None,
    install: Installer = pip_install,
    cache: Path | None = None,
) -> Bundle:
    """The route's zip: vendored requirements, then the handler's files (which win), then `extra_files`."""
    if not handler_file.is_file():
        raise PackagingError(f"handler file {handler_file} does not exist")
    if requirements is not None and not requirements.is_file():
        raise PackagingError(f"requirements file {requirements} does not exist")
    entries: dict[str, Path] = {}
    vendored = None
    if has_requirements(requirements):
        assert requirements is not None
        try:
            vendored = resolve(requirements, runtime, cache, install)
        except DependencyError as exc:
            raise PackagingError(str(exc)) from exc
        entries.update(vendored_files(vendored))
    own = dict(bundle_files(project_dir, handler_file, private))
    own.update(extra_files or {})
    entries.update(own)

    packages = package_sizes(vendored) if vendored else []
    unzipped = sum(path.stat().st_size for path in entries.values())
    refused = too_big(f"the bundle of {handler_file.name}", unzipped, packages)
    if refused:
        raise PackagingError(refused)

    key = hashlib.sha256(f"{runtime}\0".encode())
    key.update(requirements_digest(requirements, runtime).encode() if vendored and requirements else b"-")
    key.update(tree_digest(sorted(own.items())).encode())
    zip_path = build_root / f"{key.hexdigest()[:24]}.zip"
    if not zip_path.is_file():
        build_root.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix="staging-", suffix=".zip", dir=build_root)
        try:
            with os.fdopen(handle, "wb") as out:
                pack_zip(sorted(entries.items()), out)
            os.replace(staging, zip_path)
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
    return Bundle(zip_path, zip_path.stat().st_size, unzipped, packages)


def vendored_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file of a resolved requirements folder: wheels' own dot-files included, the marker not."""
    return [
        (path.relative_to(folder).as_posix(), path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).as_posix() != MARKER
    ]
