"""Packaging a lambda route: one zip of the handler's files, its requirements' wheels and the wrapper.

The zip's bytes depend only on what goes in (not on this machine, pip's scripts or
file times), it is built once per content, and what Lambda cannot take is refused.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from orchestrator.apidoc.integrations import sagemaker_invoke_uri
from orchestrator.targets.aws import lambda_deps
from orchestrator.targets.aws.web.program import lambda_package, naming

from .pulumi_support import make_project


class RecordingInstaller:
    """Stands in for pip: records each call and writes what pip --target writes (scripts and metadata too)."""

    def __init__(self, interpreter: str = "/usr/bin/python3"):
        self.calls: list[tuple[Path, str]] = []
        self.interpreter = interpreter

    def __call__(self, requirements: Path, target: Path, runtime: str) -> None:
        self.calls.append((requirements, runtime))
        (target / "vendored.py").write_text("VERSION = 1\n")
        (target / "helpers.py").write_text("SCALE = 'vendored'\n")
        (target / "bin").mkdir()
        (target / "bin" / "vendored-cli").write_text(f"#!{self.interpreter}\nimport vendored\n")
        info = target / "vendored-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vendored\nVersion: 1.0\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "RECORD").write_text(f"vendored.py,,\nbin/vendored-cli,sha256={self.interpreter},\n")
        (target / "__pycache__").mkdir()
        (target / "__pycache__" / "vendored.cpython-311.pyc").write_bytes(b"\0")


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture
def handler(project) -> Path:
    return project / "api" / "handler.py"


def names(bundle: lambda_package.Bundle) -> list[str]:
    with zipfile.ZipFile(bundle.path) as archive:
        return sorted(archive.namelist())


def build(project, handler, tmp_path, requirements=None, **kwargs) -> lambda_package.Bundle:
    kwargs.setdefault("cache", tmp_path / "cache")
    return lambda_package.build_bundle(project, handler, requirements, tmp_path / "build", **kwargs)


def test_bundle_holds_the_handler_folder_without_caches(project, handler, tmp_path):
    installer = RecordingInstaller()
    bundle = build(project, handler, tmp_path, install=installer)
    assert names(bundle) == ["handler.py", "helpers.py"]
    assert installer.calls == []
    assert bundle.zipped == bundle.path.stat().st_size
    assert bundle.source_code_hash == base64.b64encode(hashlib.sha256(bundle.path.read_bytes()).digest()).decode()


def test_private_files_and_folders_are_not_bundled(project, handler, tmp_path):
    """The shared rule (targets/lambda_bundle.py): no `.env`, environments, or what belongs to something else."""
    folder = handler.parent
    (folder / ".env").write_text("OPENAI_API_KEY=sk-live\n")
    for name in (".venv/lib/site.py", "venv/bin/activate", "node_modules/x/index.js", ".git/HEAD", "data/big.csv"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x")
    bundle = build(project, handler, tmp_path, private=[folder / "data"])
    assert names(bundle) == ["handler.py", "helpers.py"]
    (folder / ".env").write_text("OPENAI_API_KEY=sk-rotated\n")
    assert build(project, handler, tmp_path, private=[folder / "data"]).path == bundle.path  # nor does it change it


def test_a_handler_at_the_top_of_the_project_ships_only_itself(project, tmp_path):
    top = project / "top_handler.py"
    top.write_text("def lambda_handler(event, context):\n    return {}\n")
    assert names(build(project, top, tmp_path)) == ["top_handler.py"]


def test_comment_only_requirements_install_nothing(project, handler, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing yet\n\n")
    installer = RecordingInstaller()
    build(project, handler, tmp_path, requirements, install=installer)
    assert installer.calls == []


def test_requirements_are_vendored_without_what_pip_writes_about_itself(project, handler, tmp_path):
    """No `bin/` (its shebang names this machine's python), no INSTALLER/RECORD, no caches; the handler wins."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("vendored==1.0\n")
    installer = RecordingInstaller()
    bundle = build(project, handler, tmp_path, requirements, runtime="python3.11", install=installer)
    assert installer.calls == [(requirements, "python3.11")]
    assert names(bundle) == ["handler.py", "helpers.py", "vendored-1.0.dist-info/METADATA", "vendored.py"]
    with zipfile.ZipFile(bundle.path) as archive:
        assert archive.read("helpers.py") == b"SCALE = 2\n"
    assert sorted(name for name, _ in bundle.packages) == ["helpers", "vendored"]
    assert lambda_deps.package_of("scipy-1.13.0.dist-info") == lambda_deps.package_of("scipy.libs") == "scipy"


def test_the_zip_depends_only_on_content(project, handler, tmp_path):
    """Another machine (another interpreter path, other file times, another cache) packs the same bytes."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("vendored==1.0\n")
    here = build(project, handler, tmp_path / "here", requirements, install=RecordingInstaller("/usr/bin/python3"))
    os.utime(handler, (0, 0))
    there = build(project, handler, tmp_path / "there", requirements, install=RecordingInstaller("/opt/py/bin/python"))
    assert here.path.read_bytes() == there.path.read_bytes()
    assert here.sha256 == there.sha256


def test_unchanged_inputs_reuse_the_bundle_and_changes_rebuild(project, handler, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("vendored==1.0\n")
    installer = RecordingInstaller()
    first = build(project, handler, tmp_path, requirements, install=installer)
    again = build(project, handler, tmp_path, requirements, install=installer)
    assert again == first and len(installer.calls) == 1  # the requirements were resolved once
    handler.write_text(handler.read_text() + "\n# changed\n")
    changed = build(project, handler, tmp_path, requirements, install=installer)
    assert changed.path != first.path and len(installer.calls) == 1  # same requirements: no new install
    requirements.write_text("vendored==1.1\n")
    build(project, handler, tmp_path, requirements, install=installer)
    assert len(installer.calls) == 2


def test_failed_install_leaves_nothing_behind(project, handler, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("vendored==1.0\n")

    def failing(requirements, target, runtime):
        raise lambda_deps.DependencyError("pip could not install requirements.txt")

    with pytest.raises(lambda_package.PackagingError, match="pip could not install"):
        build(project, handler, tmp_path, requirements, install=failing)
    assert list((tmp_path / "cache").iterdir()) == []
    assert not (tmp_path / "build").exists()


def test_more_than_lambda_takes_unzipped_is_refused_naming_the_biggest_packages(project, handler, tmp_path):
    """Sparse files: their size counts, their bytes need no disk."""

    def big(requirements, target, runtime):
        for name, size in (("torch", 240), ("numpy", 30), ("tiny", 1)):
            (target / name).mkdir()
            with open(target / name / "lib.so", "wb") as out:
                out.truncate(size * 2**20)
        (target / "torch.libs").mkdir()
        (target / "torch.libs" / "libcuda.so").write_bytes(b"\0" * 1024)

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("torch\n")
    with pytest.raises(lambda_package.PackagingError) as refused:
        build(project, handler, tmp_path, requirements, install=big)
    assert str(refused.value) == (
        "the bundle of handler.py is 271 MB unzipped; Lambda takes at most 250 MB "
        "(biggest: torch 240 MB, numpy 30 MB, tiny 1 MB)"
    )
    assert not (tmp_path / "build").exists()


@pytest.mark.parametrize(
    "handler_spec, message",
    [("api/handler.py", "must look like path/to/file.py:function"), ("api/handler:main", "must look like")],
)
def test_handler_spec_errors(handler_spec, message):
    with pytest.raises(lambda_package.PackagingError, match=message):
        lambda_package.handler_parts(handler_spec)


def test_missing_files_are_reported(project, handler, tmp_path):
    with pytest.raises(lambda_package.PackagingError, match=r"handler file .* does not exist"):
        build(project, handler.with_name("nope.py"), tmp_path)
    with pytest.raises(lambda_package.PackagingError, match=r"requirements file .* does not exist"):
        build(project, handler, tmp_path, tmp_path / "missing.txt")


def test_lambda_handler_setting_and_the_runtimes_platforms():
    assert lambda_package.lambda_handler_setting("api/handler.py:lambda_handler") == "handler.lambda_handler"
    assert lambda_deps.python_version("python3.12") == "3.12"
    assert lambda_deps.python_version("nodejs20.x") is None
    # python3.12+ runs on Amazon Linux 2023 (glibc 2.34); earlier runtimes on Amazon Linux 2 (glibc 2.26)
    assert lambda_deps.platforms("python3.13") == ("manylinux_2_28_x86_64", "manylinux2014_x86_64")
    assert lambda_deps.platforms("python3.11") == ("manylinux2014_x86_64",)
    command = lambda_deps.pip_command(Path("r.txt"), Path("out"), "python3.12")
    tail = command[command.index("--platform") :]
    assert tail == [
        "--platform",
        "manylinux_2_28_x86_64",
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "--python-version",
        "3.12",
        "--only-binary=:all:",
    ]


def write_wheel(folder: Path, name: str = "tinydep", version: str = "1.0", script: bool = False) -> Path:
    """A minimal pure-Python wheel (with a console script if asked), so pip can install offline from a folder."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": b"ANSWER = 42\n\ndef main():\n    return 0\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    if script:
        files[f"{dist_info}/entry_points.txt"] = f"[console_scripts]\n{name} = {name}:main\n".encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


@pytest.mark.slow
def test_real_pip_vendors_for_the_runtime_from_a_local_wheel(project, handler, tmp_path, monkeypatch):
    """The real installer, offline (pip reads PIP_NO_INDEX / PIP_FIND_LINKS), with the runtime's platform flags."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels, script=True)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n")
    bundle = build(project, handler, tmp_path, requirements, runtime="python3.12")
    with zipfile.ZipFile(bundle.path) as archive:
        assert archive.read("tinydep.py").startswith(b"ANSWER = 42")
    assert names(bundle) == [
        "handler.py",
        "helpers.py",
        "tinydep-1.0.dist-info/METADATA",
        "tinydep-1.0.dist-info/WHEEL",
        "tinydep-1.0.dist-info/entry_points.txt",
        "tinydep.py",
    ]  # pip wrote bin/tinydep with this interpreter's path: dropped


def test_real_pip_failure_is_a_packaging_error(project, handler, tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("surely-not-a-package-here==9.9\n")
    with pytest.raises(
        lambda_package.PackagingError, match=r"^pip could not install requirements\.txt for python3\.12 "
    ):
        build(project, handler, tmp_path, requirements)


def test_long_names_leave_room_for_autonaming_within_each_types_limit():
    pipeline = "a-pipeline-name-that-is-as-long-as-allow"  # 40 characters, the longest a spec takes
    stage = "production_" * 11  # 121 characters; stages may have 128
    first = naming.logical_name(pipeline, stage, "POST /predictions/for/the/first/model", "role", limit=naming.ROLE)
    second = naming.logical_name(pipeline, stage, "POST /predictions/for/the/second/model", "role", limit=naming.ROLE)
    assert len(first) + naming.AUTONAME_CHARS <= 64 and len(second) + naming.AUTONAME_CHARS <= 64
    assert first != second
    bucket = naming.logical_name(pipeline, "site-with-a-long-suffix", limit=naming.BUCKET)
    assert len(bucket) + naming.AUTONAME_CHARS <= 63


def test_arns_and_uris_follow_the_regions_partition():
    assert naming.endpoint_arn("us-east-1", "1", "My-Endpoint") == "arn:aws:sagemaker:us-east-1:1:endpoint/my-endpoint"
    assert sagemaker_invoke_uri("cn-north-1", "ep") == (
        "arn:aws-cn:apigateway:cn-north-1:runtime.sagemaker:path//endpoints/ep/invocations"
    )
    assert naming.s3_arn("us-gov-west-1", "b", "k") == "arn:aws-us-gov:s3:::b/k"
    assert (
        naming.dns_suffix("cn-northwest-1") == "amazonaws.com.cn" and naming.dns_suffix("eu-west-1") == "amazonaws.com"
    )
    assert naming.execute_api_source_path("ANY", "/items/{id}") == "/*/items/*"


def test_zip_entries_are_what_the_bundle_reports(project, handler, tmp_path):
    bundle = build(project, handler, tmp_path)
    with zipfile.ZipFile(io.BytesIO(bundle.path.read_bytes())) as archive:
        assert sum(info.file_size for info in archive.infolist()) == bundle.unzipped
