"""files.py: the one rule for which files belong to a step, and archives that depend only on content."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

from orchestrator.files import pack_folder_tar_gz, pack_tar_gz, pack_zip, relative_files, walk


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_rule_skips_private_files_caches_and_environments(tmp_path):
    tree(tmp_path, {"a.py": "", "pkg/b.py": "", ".env": "SECRET=1", ".git/config": "", "__pycache__/a.pyc": "",
                    "venv/lib.py": "", "node_modules/x.js": "", "c.pyc": "", ".well-known/security.txt": ""})  # fmt: skip
    assert [name for name, _ in relative_files(tmp_path)] == [".well-known/security.txt", "a.py", "pkg/b.py"]


def test_excluded_folders_stay_out_also_through_symlinks(tmp_path):
    tree(tmp_path, {"app/handler.py": "", "data/train.csv": "x", "state/db": ""})
    os.symlink(tmp_path / "data", tmp_path / "app" / "data-link")
    os.symlink(tmp_path / "data" / "train.csv", tmp_path / "app" / "train.csv")
    found = [name for name, _ in relative_files(tmp_path, exclude=[tmp_path / "data", tmp_path / "state"])]
    assert found == ["app/handler.py"]


def test_a_symlink_loop_is_not_followed(tmp_path):
    tree(tmp_path, {"site/index.html": ""})
    os.symlink(tmp_path / "site", tmp_path / "site" / "again")
    assert [name for name, _ in relative_files(tmp_path / "site")] == ["index.html"]


def test_two_links_to_one_folder_both_count(tmp_path):
    tree(tmp_path, {"shared/logo.png": "x", "site/index.html": ""})
    os.symlink(tmp_path / "shared", tmp_path / "site" / "a")
    os.symlink(tmp_path / "shared", tmp_path / "site" / "b")
    assert [name for name, _ in relative_files(tmp_path / "site")] == ["a/logo.png", "b/logo.png", "index.html"]


def test_a_named_file_belongs_even_if_the_rule_would_skip_it(tmp_path):
    path = tmp_path / ".hidden.py"
    path.write_text("")
    assert list(walk(path)) == [path]


def test_archives_depend_only_on_names_content_and_exec_bits(tmp_path):
    tree(tmp_path, {"b.txt": "2", "a.txt": "1"})
    entries = relative_files(tmp_path)
    first_tar, first_zip = io.BytesIO(), io.BytesIO()
    pack_tar_gz(entries, first_tar)
    pack_zip(entries, first_zip)
    os.utime(tmp_path / "a.txt", (1, 1))
    (tmp_path / "b.txt").chmod(0o755)
    again_tar, again_zip = io.BytesIO(), io.BytesIO()
    pack_tar_gz(relative_files(tmp_path), again_tar)
    pack_zip(relative_files(tmp_path), again_zip)
    assert first_tar.getvalue() != again_tar.getvalue()  # the exec bit counts
    (tmp_path / "b.txt").chmod(0o644)
    third = io.BytesIO()
    pack_tar_gz(relative_files(tmp_path), third)
    assert third.getvalue() == first_tar.getvalue()  # the time does not
    with tarfile.open(fileobj=io.BytesIO(third.getvalue())) as tar:
        assert [(m.name, m.mtime, m.uid) for m in tar.getmembers()] == [("a.txt", 0, 0), ("b.txt", 0, 0)]
    with zipfile.ZipFile(io.BytesIO(again_zip.getvalue())) as z:
        assert z.namelist() == ["a.txt", "b.txt"]
        assert (z.getinfo("b.txt").external_attr >> 16) & 0o777 == 0o755


def test_a_model_folder_is_packed_whole(tmp_path):
    tree(tmp_path, {"model.joblib": "m", ".keep": "", "sub/x": "y"})
    os.symlink("model.joblib", tmp_path / "latest")
    out = io.BytesIO()
    pack_folder_tar_gz(tmp_path, out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        names = {m.name: m.type for m in tar.getmembers()}
    assert names == {".keep": tarfile.REGTYPE, "latest": tarfile.SYMTYPE, "model.joblib": tarfile.REGTYPE,
                     "sub": tarfile.DIRTYPE, "sub/x": tarfile.REGTYPE}  # fmt: skip
