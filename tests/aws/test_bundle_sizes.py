"""`plan` sizes each lambda route's bundle for its runtime and refuses one Lambda cannot take."""

from __future__ import annotations

import json
import zipfile

import pytest

from orchestrator.cli import main
from orchestrator.targets.aws.bundle_sizes import bundle_notes
from orchestrator.targets.base import TargetError

from .aws_support import make_pipeline

ROUTE = {
    "method": "POST",
    "path": "/predict",
    "integration": "lambda",
    "handler": "api/handler.py:lambda_handler",
    "endpoint": "reviews-deploy",
    "requirements": "api/requirements.txt",
}


@pytest.fixture
def api_project(tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (tmp_path / "api" / "requirements.txt").write_text("torch\n")
    return tmp_path


def sparse_install(sizes_mb: dict[str, int]):
    """Stands in for pip: packages of these sizes, as sparse files (their size counts, no disk is used)."""

    def install(requirements, target, runtime):
        for name, size in sizes_mb.items():
            (target / name).mkdir()
            with open(target / name / "lib.so", "wb") as out:
                out.truncate(size * 2**20)

    return install


def test_a_route_with_requirements_gets_its_bundle_size_noted(api_project, tmp_path):
    pipeline = make_pipeline({"api": {"type": "api", "routes": [ROUTE]}}, role_arn=None, bucket=None)
    notes = bundle_notes(
        pipeline, api_project, api_project / ".orchestrator", sparse_install({"torch": 100}), tmp_path / "c"
    )
    assert notes == ["lambda POST /predict: bundle 100 MB unzipped, for python3.12"]


def test_a_bundle_over_250_mb_fails_plan_with_its_size_and_biggest_packages(api_project, tmp_path):
    pipeline = make_pipeline({"api": {"type": "api", "routes": [ROUTE]}}, role_arn=None, bucket=None)
    install = sparse_install({"torch": 230, "nvidia-cudnn": 40, "numpy": 20})
    with pytest.raises(TargetError) as refused:
        bundle_notes(pipeline, api_project, api_project / ".orchestrator", install, tmp_path / "c")
    assert str(refused.value) == (
        "steps.api.routes[0] (POST /predict): its Lambda bundle is 290 MB unzipped; Lambda takes at most 250 MB "
        "(biggest: torch 230 MB, nvidia-cudnn 40 MB, numpy 20 MB)"
    )
    assert refused.value.hint == "drop or replace the biggest requirements (or serve the work from the endpoint)"


def wheel(folder, name: str, tag: str) -> None:
    info = f"{name}-1.0.dist-info"
    with zipfile.ZipFile(folder / f"{name}-1.0-{tag}.whl", "w") as archive:
        archive.writestr(f"{name}.py", "X = 1\n")
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        archive.writestr(f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: false\nTag: {tag}\n")
        archive.writestr(f"{info}/RECORD", "")


SPEC = """\
version: 1
name: reviews
target: aws
aws: {role_arn: "arn:aws:iam::123456789012:role/r", bucket: artifacts}
steps:
  api:
    type: api
    routes:
      - {method: POST, path: /predict, integration: lambda, handler: api/handler.py:lambda_handler,
         endpoint: reviews-deploy, requirements: api/requirements.txt, runtime: RUNTIME}
"""


@pytest.mark.parametrize(
    "runtime, found",
    [("python3.12", True), ("python3.11", False)],  # a manylinux_2_28 wheel runs on Amazon Linux 2023 only
)
def test_plan_resolves_the_wheels_of_the_routes_runtime(api_project, tmp_path, monkeypatch, capsys, runtime, found):
    """Real pip, offline: a cp312 manylinux_2_28 wheel is what python3.12 takes and python3.11 cannot."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel(wheels, "fastdep", "cp312-cp312-manylinux_2_28_x86_64")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (api_project / "api" / "requirements.txt").write_text("fastdep==1.0\n")
    (api_project / "pipeline.yaml").write_text(SPEC.replace("RUNTIME", runtime))
    code = main(["plan", str(api_project / "pipeline.yaml"), "--format", "json"])
    out, err = capsys.readouterr()
    if found:
        assert code == 0, err
        assert json.loads(out)["notes"] == [
            "lambda POST /predict: bundle 8 KB unzipped, for python3.12"
        ]  # with room for the wrapper
    else:
        assert code != 0
        assert "steps.api.routes[0] (POST /predict): pip could not install requirements.txt for python3.11" in err
        assert "manylinux2014_x86_64 wheels" in err
    assert not (api_project / ".orchestrator").exists() or not any((api_project / ".orchestrator").rglob("*"))
