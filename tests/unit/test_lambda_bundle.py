"""The one rule for what a Lambda route ships, shared by the aws bundle and the local Lambda."""

from __future__ import annotations

from pathlib import Path

from orchestrator.targets.lambda_bundle import bundle_files, private_folders
from orchestrator.validate import validate_file

SPEC = """\
version: 1
name: demo
steps:
  train:
    type: training
    framework: sklearn
    entry_point: src/train/train.py
    source_dir: src/train
    inputs: {train: src/data}
  api:
    type: api
    routes:
      - {method: POST, path: /p, integration: lambda, handler: src/handler.py:main, endpoint: e}
  site:
    type: website
    source: src/web
"""


def project(root: Path) -> Path:
    for name in ("src/handler.py", "src/util.py", "src/.env", "src/train/train.py", "src/data/train.csv",
                 "src/web/index.html", "src/.orchestrator/state.db", "top.py"):  # fmt: skip
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    (root / "pipeline.yaml").write_text(SPEC.replace(".orchestrator", "src/.orchestrator"))
    return root


def test_a_handler_ships_its_folder_without_what_other_steps_own(tmp_path):
    root = project(tmp_path)
    spec = validate_file(root / "pipeline.yaml")
    private = private_folders(spec.pipeline, root, root / "src" / ".orchestrator", "api")
    names = [name for name, _ in bundle_files(root, root / "src" / "handler.py", private)]
    assert names == ["handler.py", "util.py"]


def test_a_handler_at_the_top_of_the_project_ships_only_itself(tmp_path):
    root = project(tmp_path)
    assert [name for name, _ in bundle_files(root, root / "top.py")] == ["top.py"]


def test_a_folder_that_holds_the_handler_is_never_excluded(tmp_path):
    root = project(tmp_path)
    names = [name for name, _ in bundle_files(root, root / "src" / "handler.py", [root / "src"])]
    assert "handler.py" in names
