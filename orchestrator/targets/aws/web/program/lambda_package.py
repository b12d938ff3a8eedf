"""Build a Lambda bundle: the handler's folder plus its declared requirements.

Kept free of Pulumi so it is testable on its own. What of the folder is shipped
is the one file rule of `orchestrator/files.py` (no `.env`, `.venv/`, caches), as
for the local target's Lambdas and the step's fingerprint. Bundles are cached by
the hash of what goes into them, so an unchanged handler is not rebuilt (and its
archive hash, hence the function, does not change). Vendoring runs pip at
`pulumi up` time; `install` is a parameter so tests can give a fake or an offline pip.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .....files import relative_files, tree_digest

BUILT_MARKER = ".bundle-complete"

Installer = Callable[[Path, Path, str], None]


class PackagingError(RuntimeError):
    """The handler or its requirements could not be packaged."""


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


def python_version(runtime: str) -> str | None:
    """`python3.12` -> `3.12`; None for runtimes pip cannot target."""
    match = re.fullmatch(r"python(\d+\.\d+)", runtime)
    return match.group(1) if match else None


def has_requirements(requirements: Path | None) -> bool:
    """True when the file names anything to install (not only blanks and comments)."""
    if requirements is None:
        return False
    return any(line.split("#", 1)[0].strip() for line in requirements.read_text(encoding="utf-8").splitlines())


def bundle_digest(folder: Path, requirements: Path | None, runtime: str, extra_files: dict[str, bytes]) -> str:
    """Changes with anything that goes into the bundle: runtime, extra files, the folder's files, requirements."""
    digest = hashlib.sha256(runtime.encode())
    for name, data in sorted(extra_files.items()):
        digest.update(b"extra\0" + name.encode() + b"\0" + hashlib.sha256(data).digest())
    digest.update(b"files\0" + tree_digest(relative_files(folder)).encode())
    if requirements is not None:
        digest.update(b"requirements\0" + requirements.read_bytes())
    return digest.hexdigest()


def pip_install(requirements: Path, target: Path, runtime: str) -> None:
    """Vendor requirements as Lambda (Linux x86_64) wheels; honours PIP_* settings such as PIP_INDEX_URL."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    version = python_version(runtime)
    if version:
        command += [
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            version,
            "--only-binary=:all:",
        ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(f"pip could not install {requirements}:\n{result.stderr.strip()[-2000:]}")


def build_bundle(
    handler_file: Path,
    requirements: Path | None,
    build_root: Path,
    runtime: str = "python3.12",
    install: Installer = pip_install,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Return a folder holding the handler's folder, its vendored requirements and `extra_files`."""
    extra_files = extra_files or {}
    if not handler_file.is_file():
        raise PackagingError(f"handler file {handler_file} does not exist")
    if requirements is not None and not requirements.is_file():
        raise PackagingError(f"requirements file {requirements} does not exist")
    folder = handler_file.parent
    bundle = build_root / bundle_digest(folder, requirements, runtime, extra_files)[:20]
    if (bundle / BUILT_MARKER).is_file():
        return bundle
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=build_root))
    try:
        if has_requirements(requirements):
            install(requirements, staging, runtime)
        for name, path in relative_files(folder):
            destination = staging / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)  # the handler wins over a vendored file of the same name
        for name, data in extra_files.items():
            (staging / name).write_bytes(data)
        (staging / BUILT_MARKER).write_text("", encoding="utf-8")
        if bundle.exists():
            shutil.rmtree(bundle)
        staging.rename(bundle)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return bundle
