"""A lambda route's requirements as the wheels its runtime runs, resolved once per content.

Lambda's Python runtimes are Linux x86_64 (python3.12 and later on Amazon Linux 2023,
glibc 2.34: manylinux_2_28 and manylinux2014 wheels; earlier ones on Amazon Linux 2:
manylinux2014), so pip is told that platform, the runtime's Python version and
binary wheels only, whatever machine runs it. The result is kept in a cache keyed
by the requirements' bytes and the runtime, shared by `plan` (which checks the size
before anything is spent) and `pulumi up` (which packs it). What pip writes about
itself (console scripts in `bin/`, whose shebang names this machine's interpreter;
INSTALLER, RECORD, REQUESTED, direct_url.json) is dropped, so a bundle's bytes and
hash depend only on the wheels. Standard library only; no Pulumi.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

LAMBDA_UNZIPPED_MAX = 250 * 1024 * 1024  # https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
LAMBDA_DIRECT_UPLOAD_MAX = 50 * 1024 * 1024  # a zip in the request; larger ones go through S3
MARKER = ".resolved"
DROPPED_DIRS = ("bin",)
DROPPED_METADATA = ("INSTALLER", "RECORD", "REQUESTED", "direct_url.json")
SHOWN_PACKAGES = 5

Installer = Callable[[Path, Path, str], None]  # (requirements, target folder, runtime)


class DependencyError(RuntimeError):
    """The requirements could not be resolved for the runtime, or they do not fit in a Lambda."""


def python_version(runtime: str) -> str | None:
    """`python3.12` -> `3.12`; None for runtimes pip cannot target."""
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def platforms(runtime: str) -> tuple[str, ...]:
    """The wheel platforms the runtime's OS runs (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html)."""
    version = python_version(runtime)
    if version and tuple(int(part) for part in version.split(".")) >= (3, 12):
        return ("manylinux_2_28_x86_64", "manylinux2014_x86_64")  # Amazon Linux 2023
    return ("manylinux2014_x86_64",)  # Amazon Linux 2


def has_requirements(requirements: Path | None) -> bool:
    """True when the file names anything to install (not only blanks and comments)."""
    if requirements is None:
        return False
    return any(line.split("#", 1)[0].strip() for line in requirements.read_text(encoding="utf-8").splitlines())


def requirements_digest(requirements: Path, runtime: str) -> str:
    digest = hashlib.sha256(f"{runtime}\0{','.join(platforms(runtime))}\0".encode())
    digest.update(requirements.read_bytes())
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where resolved requirements are kept: the user's cache, not the pipeline's state (plan records nothing)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orchestrator" / "lambda-requirements"


def pip_command(requirements: Path, target: Path, runtime: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-warn-conflicts",
        "--no-compile",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    version = python_version(runtime)
    if version:
        for platform in platforms(runtime):
            command += ["--platform", platform]
        command += ["--implementation", "cp", "--python-version", version, "--only-binary=:all:"]
    return command


def pip_install(requirements: Path, target: Path, runtime: str) -> None:
    """Vendor the requirements with pip; its own settings (PIP_INDEX_URL, PIP_FIND_LINKS, ...) apply."""
    result = subprocess.run(pip_command(requirements, target, runtime), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DependencyError(
            f"pip could not install {requirements.name} for {runtime} ({', '.join(platforms(runtime))} wheels):\n"
            + result.stderr.strip()[-2000:]
        )


def resolve(requirements: Path, runtime: str, cache: Path | None = None, install: Installer = pip_install) -> Path:
    """The folder holding the requirements installed for `runtime`; built once per content."""
    cache = cache or cache_dir()
    folder = cache / requirements_digest(requirements, runtime)[:24]
    if (folder / MARKER).is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=cache))
    try:
        install(requirements, staging, runtime)
        _prune(staging)
        (staging / MARKER).write_text("", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def _prune(folder: Path) -> None:
    """Drop what says how and where pip ran rather than what the wheels hold."""
    for name in DROPPED_DIRS:
        shutil.rmtree(folder / name, ignore_errors=True)
    for info in folder.glob("*.dist-info"):
        for name in DROPPED_METADATA:
            (info / name).unlink(missing_ok=True)
    for cache in list(folder.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def package_of(name: str) -> str:
    """The distribution a top-level entry belongs to: `scipy.libs` and `scipy-1.13.dist-info` are scipy's."""
    for suffix in (".dist-info", ".data"):
        if name.endswith(suffix):
            name = name.removesuffix(suffix).split("-", 1)[0]  # `<name>-<version>.dist-info`
    return name.removesuffix(".libs").removesuffix(".py").replace("_", "-").lower()


def package_sizes(folder: Path) -> list[tuple[str, int]]:
    """(package, bytes unzipped) of a resolved folder, biggest first."""
    sizes: dict[str, int] = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.name != MARKER:
            top = path.relative_to(folder).parts[0]
            sizes[package_of(top)] = sizes.get(package_of(top), 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))


def megabytes(size: int) -> str:
    return f"{size / 2**20:.0f} MB" if size >= 2**20 else f"{size / 2**10:.0f} KB"


def too_big(what: str, total: int, packages: list[tuple[str, int]]) -> str | None:
    """The sentence saying a bundle does not fit in Lambda, naming its biggest packages; None when it fits."""
    if total <= LAMBDA_UNZIPPED_MAX:
        return None
    biggest = ", ".join(f"{name} {megabytes(size)}" for name, size in packages[:SHOWN_PACKAGES])
    return f"{what} is {megabytes(total)} unzipped; Lambda takes at most {megabytes(LAMBDA_UNZIPPED_MAX)}" + (
        f" (biggest: {biggest})" if biggest else ""
    )
