"""What a local Lambda runs with: its bundle, its requirements, the runtime's boto3.

Built on the command's side, where progress can be shown, before the API is handed
to the daemon:
- the bundle: the files `lambda_bundle.bundle_files` picks (the aws bundle's rule),
  copied to `<home>/bundles/<digest>/`, so the function runs what was deployed, not
  whatever the project holds later;
- the requirements: installed with `uv` (pip when uv is missing) into a cached
  folder keyed by the requirements file's content and this Python, shared by every
  route and pipeline that names the same requirements;
- the runtime layer: the boto3 that Lambda's Python runtimes include, copied once
  from this environment's installed distributions (no download).
"""

from __future__ import annotations

import compileall
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from ....files import tree_digest
from ...base import StepFailed

CACHE_VARIABLE = "ORCHESTRATOR_CACHE_DIR"
RUNTIME_DISTRIBUTIONS = ("boto3",)  # what Lambda's Python runtimes include besides the standard library
INSTALL_TIMEOUT_S = 900
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def cache_root() -> Path:
    """Where built environments are kept: $ORCHESTRATOR_CACHE_DIR, else the user's cache folder."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orchestrator"


def python_tag() -> str:
    """This interpreter's ABI and platform: what a built environment is only valid for."""
    return f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}"


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _publish(partial: Path, target: Path) -> None:
    (partial / ".complete").write_text("")
    os.replace(partial, target)


def stage_bundle(files: list[tuple[str, Path]], bundles_dir: Path) -> Path:
    """Copy a function's files to `<bundles_dir>/<digest>/` once; the same files give the same folder."""
    target = bundles_dir / tree_digest(files)
    if (target / ".complete").is_file():
        return target
    with _locked(target):
        if (target / ".complete").is_file():
            return target
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        for name, path in files:
            destination = partial / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        partial.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        _publish(partial, target)
    return target


def installer() -> list[str]:
    """uv (from PyPI's `uv` package, or on PATH); else this Python's pip."""
    try:
        from uv import find_uv_bin

        return [find_uv_bin(), "pip", "install"]
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found:
        return [found, "pip", "install"]
    return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]


def requirements_env(requirements: Path, show: Callable[[str], None]) -> Path:
    """The requirements installed into a cached folder; each line of the installer is shown."""
    key = hashlib.sha256(requirements.read_bytes() + python_tag().encode()).hexdigest()[:32]
    target = cache_root() / "lambda-requirements" / key
    if (target / ".complete").is_file():
        show(f"{requirements.name}: installed before (cache {target.name})")
        return target
    with _locked(target):
        if (target / ".complete").is_file():
            return target
        partial = target.with_name(f".{key}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        command = [*installer(), "--target", str(partial), "-r", str(requirements)]
        if "pip" in command[0] or command[0] == sys.executable:
            command += ["--no-input"]
        else:
            command += ["--python", sys.executable, "--compile-bytecode"]
        show(f"installing {requirements.name} for the Lambda: {' '.join(Path(c).name for c in command[:3])} ...")
        _run_installer(command, requirements, show)
        shutil.rmtree(target, ignore_errors=True)
        _publish(partial, target)
    return target


def _run_installer(command: list[str], requirements: Path, show: Callable[[str], None]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    try:
        process = subprocess.Popen(
            command,
            cwd=requirements.parent,  # `-r other.txt` and local paths resolve beside the file
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    except OSError as exc:
        raise StepFailed(f"could not run the installer for {requirements.name}: {exc}") from exc
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        line = line.rstrip()
        if line:
            lines.append(line)
            show(line)
    if process.wait(timeout=INSTALL_TIMEOUT_S) != 0:
        tail = "\n".join(f"  {line}" for line in lines[-15:])
        raise StepFailed(
            f"installing the Lambda's requirements ({requirements.name}) failed",
            f"{tail}\nFix {requirements}, then run again; the same file is installed once and cached.",
        )


def _requirement_names(distribution: metadata.Distribution) -> Iterable[str]:
    for requirement in distribution.requires or ():
        if "extra ==" in requirement.replace('"', "").replace("'", ""):
            continue
        found = _NAME.match(requirement)
        if found:
            yield found.group(1)


def runtime_distributions() -> list[metadata.Distribution]:
    """boto3 and what it needs, as installed here (Lambda's runtimes include them)."""
    wanted, seen, found = list(RUNTIME_DISTRIBUTIONS), set(), []
    while wanted:
        name = wanted.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise StepFailed(
                f"the Lambda runtime layer needs {name}, which is not installed here",
                "install the orchestrator's local extra: pip install 'orchestrator[local]'",
            ) from None
        found.append(distribution)
        wanted.extend(_requirement_names(distribution))
    return sorted(found, key=lambda d: d.metadata["Name"].lower())


def runtime_layer() -> Path:
    """The runtime's boto3, copied once into a cached folder of its own."""
    distributions = runtime_distributions()
    pins = ",".join(f"{d.metadata['Name']}=={d.version}" for d in distributions)
    target = cache_root() / "lambda-runtime" / hashlib.sha256(f"{pins}/{python_tag()}".encode()).hexdigest()[:32]
    if (target / ".complete").is_file():
        return target
    with _locked(target):
        if (target / ".complete").is_file():
            return target
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for distribution in distributions:
            for file in distribution.files or ():
                parts = Path(file).parts
                if ".." in parts or "__pycache__" in parts or file.suffix == ".pyc":
                    continue  # scripts in bin/, and caches: not part of the importable layer
                source = Path(distribution.locate_file(file))
                if source.is_file():
                    destination = partial / file
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, destination)
        (partial / "RUNTIME.txt").write_text(pins.replace(",", "\n") + "\n")
        compileall.compile_dir(partial, quiet=2, workers=0)  # workers start fast: they never write bytecode
        shutil.rmtree(target, ignore_errors=True)
        _publish(partial, target)
    return target
