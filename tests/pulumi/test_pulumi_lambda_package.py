"""Packaging a lambda route: the handler's folder plus vendored requirements, cached by content."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from orchestrator.targets.aws.web.program import lambda_package, naming

from .pulumi_support import make_project


class RecordingInstaller:
    """Stands in for pip: records each call and drops one module into the target."""

    def __init__(self):
        self.calls: list[tuple[Path, str]] = []

    def __call__(self, requirements: Path, target: Path, runtime: str) -> None:
        self.calls.append((requirements, runtime))
        (target / "vendored.py").write_text("VERSION = 1\n")
        (target / "helpers.py").write_text("SCALE = 'vendored'\n")


@pytest.fixture
def handler(tmp_path) -> Path:
    return make_project(tmp_path / "project") / "api" / "handler.py"


def bundle_files(bundle: Path) -> list[str]:
    return sorted(
        p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def test_bundle_holds_the_handler_folder_without_caches(handler, tmp_path):
    installer = RecordingInstaller()
    bundle = lambda_package.build_bundle(handler, None, tmp_path / "build", install=installer)
    assert bundle_files(bundle) == ["handler.py", "helpers.py"]
    assert installer.calls == []


def test_private_files_and_environments_are_not_bundled(handler, tmp_path):
    """The one file rule (files.py): a `.env` or a virtualenv beside the handler never reaches Lambda."""
    folder = handler.parent
    (folder / ".env").write_text("OPENAI_API_KEY=sk-live\n")
    for name in (".venv/lib/site.py", "venv/bin/activate", "node_modules/x/index.js", ".git/HEAD"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x")
    before = lambda_package.bundle_digest(folder, None, "python3.12", {})
    bundle = lambda_package.build_bundle(handler, None, tmp_path / "build", install=RecordingInstaller())
    assert bundle_files(bundle) == ["handler.py", "helpers.py"]
    assert not (bundle / ".env").exists()
    (folder / ".env").write_text("OPENAI_API_KEY=sk-rotated\n")
    assert lambda_package.bundle_digest(folder, None, "python3.12", {}) == before  # nor does it change the bundle


def test_comment_only_requirements_install_nothing(handler, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing yet\n\n")
    installer = RecordingInstaller()
    lambda_package.build_bundle(handler, requirements, tmp_path / "build", install=installer)
    assert installer.calls == []


def test_requirements_are_vendored_and_the_handler_wins(handler, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n")
    installer = RecordingInstaller()
    bundle = lambda_package.build_bundle(
        handler, requirements, tmp_path / "build", runtime="python3.11", install=installer
    )
    assert installer.calls == [(requirements, "python3.11")]
    assert bundle_files(bundle) == ["handler.py", "helpers.py", "vendored.py"]
    assert (bundle / "helpers.py").read_text() == "SCALE = 2\n"


def test_unchanged_inputs_reuse_the_bundle_and_changes_rebuild(handler, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n")
    installer = RecordingInstaller()
    first = lambda_package.build_bundle(handler, requirements, tmp_path / "build", install=installer)
    again = lambda_package.build_bundle(handler, requirements, tmp_path / "build", install=installer)
    assert again == first and len(installer.calls) == 1
    handler.write_text(handler.read_text() + "\n# changed\n")
    changed = lambda_package.build_bundle(handler, requirements, tmp_path / "build", install=installer)
    assert changed != first and len(installer.calls) == 2


def test_failed_install_leaves_no_bundle(handler, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n")

    def failing(requirements, target, runtime):
        raise lambda_package.PackagingError("pip could not install")

    with pytest.raises(lambda_package.PackagingError):
        lambda_package.build_bundle(handler, requirements, tmp_path / "build", install=failing)
    assert list((tmp_path / "build").iterdir()) == []


@pytest.mark.parametrize(
    "handler_spec, message",
    [("api/handler.py", "must look like path/to/file.py:function"), ("api/handler:main", "must look like")],
)
def test_handler_spec_errors(handler_spec, message):
    with pytest.raises(lambda_package.PackagingError, match=message):
        lambda_package.handler_parts(handler_spec)


def test_missing_files_are_reported(handler, tmp_path):
    with pytest.raises(lambda_package.PackagingError, match=r"handler file .* does not exist"):
        lambda_package.build_bundle(handler.with_name("nope.py"), None, tmp_path / "build")
    with pytest.raises(lambda_package.PackagingError, match=r"requirements file .* does not exist"):
        lambda_package.build_bundle(handler, tmp_path / "missing.txt", tmp_path / "build")


def test_lambda_handler_setting_and_python_version():
    assert lambda_package.lambda_handler_setting("api/handler.py:lambda_handler") == "handler.lambda_handler"
    assert lambda_package.python_version("python3.12") == "3.12"
    assert lambda_package.python_version("nodejs20.x") is None


def write_wheel(folder: Path, name: str = "tinydep", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel, so pip can install offline from a local folder."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": b"ANSWER = 42\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
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
def test_real_pip_vendors_from_a_local_wheel(handler, tmp_path, monkeypatch):
    """The real installer, offline: pip reads PIP_NO_INDEX / PIP_FIND_LINKS from the environment."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n")
    bundle = lambda_package.build_bundle(handler, requirements, tmp_path / "build", runtime="python3.12")
    assert (bundle / "tinydep.py").read_text() == "ANSWER = 42\n"
    assert (bundle / "handler.py").is_file()


def test_real_pip_failure_is_a_packaging_error(handler, tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("surely-not-a-package-here==9.9\n")
    with pytest.raises(lambda_package.PackagingError, match="pip could not install"):
        lambda_package.build_bundle(handler, requirements, tmp_path / "build")


def test_long_logical_names_stay_short_and_distinct():
    pipeline = "a-pipeline-name-that-is-as-long-as-allowed"
    first = naming.logical_name(pipeline, "production", "POST /predictions/for/the/first/model")
    second = naming.logical_name(pipeline, "production", "POST /predictions/for/the/second/model")
    assert len(first) <= naming.MAX_LOGICAL_NAME and len(second) <= naming.MAX_LOGICAL_NAME
    assert first != second


def test_arns_and_uris():
    assert naming.endpoint_arn("us-east-1", "1", "My-Endpoint") == "arn:aws:sagemaker:us-east-1:1:endpoint/my-endpoint"
    assert naming.sagemaker_invoke_uri("cn-north-1", "ep") == (
        "arn:aws-cn:apigateway:cn-north-1:runtime.sagemaker:path//endpoints/ep/invocations"
    )
    assert naming.execute_api_source_path("ANY", "/items/{id}") == "/*/items/*"
