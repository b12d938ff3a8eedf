"""A regular install (a wheel, not a checkout) carries the Pulumi program and its hand-off finds it.

The wheel is built from a copy of the repository's package files and installed, alone,
into a fresh virtual environment that sees this environment's dependencies through a
`.pth` line (so nothing is downloaded but, where this environment cannot build wheels
itself, setuptools for pip's isolated build). Everything then runs outside the source tree.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from .pulumi_support import make_project, run_program

REPO = Path(__file__).resolve().parents[2]
PACKAGE_FILES = ("pyproject.toml", "README.md", "orchestrator")

CHECK = """
import json, sys
from pathlib import Path

import orchestrator
from orchestrator.spec.models import Pipeline
from orchestrator.targets.aws.web.handoff import WebLayer, packaged_program

project = Path(sys.argv[1])
pipeline = Pipeline.model_validate({
    "name": "demo", "target": "aws", "region": "eu-west-1",
    "steps": {"api": {"type": "api", "routes": [
        {"method": "POST", "path": "/p", "integration": "direct", "endpoint": "ep"}]}},
})
layer = WebLayer(pipeline, project, project / ".orchestrator", stack_factory=lambda *args: None)
layer.preflight()  # the program check (and the stages'); a stand-in for the stacks needs no CLI
program = layer.program()
print(json.dumps({
    "package": orchestrator.__file__,
    "program": sys.modules[program.__module__].__file__,
    "packaged": program is packaged_program(),
}))
"""


def _builds_without_isolation() -> bool:
    """setuptools 70.1+ builds wheels itself; then pip needs nothing from an index."""
    try:
        major, minor = (int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (70, 1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh venv holding only the orchestrator wheel (plus this environment's dependencies)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(REPO / name, source / name)
    isolation = ["--no-build-isolation"] if _builds_without_isolation() else []
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", *isolation, "-w", str(root / "dist"), "."],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = (root / "dist").glob("orchestrator-*.whl")

    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # Dependencies only: a directory named in a .pth file is put on sys.path, but its own .pth
    # files (such as an editable install's finder) are not run.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    return python


@pytest.mark.slow
def test_the_installed_hand_off_finds_the_packaged_program(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checked = subprocess.run(
        [str(installed), "-I", "-c", CHECK, str(elsewhere / "project")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    found = json.loads(checked.stdout)
    site = installed.parent.parent
    assert Path(found["package"]).is_relative_to(site), found  # the wheel's copy, not the checkout
    assert (
        Path(found["program"]) == Path(found["package"]).parent / "targets" / "aws" / "web" / "program" / "__init__.py"
    )
    assert found["packaged"] is True


@pytest.mark.slow
def test_the_installed_program_builds_the_api_and_website(installed, tmp_path):
    """Run from the wheel under Pulumi's mocks: the CORS shim and the site's config renderer come with it."""
    project = make_project(tmp_path / "project")
    api = {
        "stage": "prod",
        "cors": {"allow_origins": ["*"]},
        "routes": [
            {
                "method": "POST",
                "path": "/predict",
                "integration": "lambda",
                "endpoint_name": "ep",
                "handler": "api/handler.py:lambda_handler",
            }
        ],
    }
    website = {"source": "web", "config": {"apiUrl": "https://x.example/prod"}}
    config = {
        "aws:region": "eu-west-1",
        "orchestrator:pipeline": "demo",
        "orchestrator:projectDir": str(project),
        "orchestrator:buildDir": str(tmp_path / "build"),
        "orchestrator:api": json.dumps(api),
        "orchestrator:website": json.dumps(website),
    }
    run = run_program(project, config, entry="inline", python=str(installed))
    assert run.error is None, run.stderr
    assert Path(run.package).is_relative_to(installed.parent.parent)
    [function] = run.of_type("Function")
    assert function["inputs"]["handler"] == "lambda_shim.handler"
    with zipfile.ZipFile(function["inputs"]["code"]["archive"]) as bundle:
        assert "lambda_shim.py" in bundle.namelist()
    config_js = [r for r in run.of_type("BucketObjectv2") if r["inputs"]["key"] == "config.js"]
    assert "https://x.example/prod" in config_js[0]["inputs"]["content"]
    assert {"api_url", "website_url"} <= set(run.outputs)
