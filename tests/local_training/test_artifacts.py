"""Identical models give identical archives, stored once, and reruns leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

from orchestrator.files import pack_folder_tar_gz
from orchestrator.targets.local.training.artifacts import ArtifactStore
from orchestrator.targets.local.training.job import run_training


def test_the_same_model_trained_twice_has_the_same_digest(project, reviews_csv, sklearn_script):
    step = project.step(entry_point=sklearn_script(), inputs={"train": "data/reviews.csv"}, hyperparameters={"C": 0.5})

    first = run_training(step, project.context(step, fingerprint="aaaaaaaaaaaa01"), project.home)
    second = run_training(step, project.context(step, fingerprint="bbbbbbbbbbbb02"), project.home)

    assert first.outputs["job_name"] != second.outputs["job_name"]
    assert first.details["artifact_sha256"] == second.details["artifact_sha256"]
    assert first.outputs["model"] == second.outputs["model"]
    assert len(list((project.home / "artifacts" / "sha256").iterdir())) == 1

    with tarfile.open(first.outputs["model"].removeprefix("file://")) as tar:
        member = tar.getmember("model.joblib")
        assert (member.mtime, member.uid, member.gid, member.uname, member.mode) == (0, 0, 0, "", 0o644)


def test_a_second_identical_call_reuses_the_job_folder_and_leaves_no_garbage(project):
    project.write(
        "train.py",
        r"""
        import os
        marker = os.path.join(os.environ["SM_MODEL_DIR"], "..", "output", "data", "stale.txt")
        assert not os.path.exists(marker), "the last run's files are still here"
        open(marker, "w").write("left by a run")
        open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("weights")
    """,
    )
    step = project.step(entry_point="train.py")

    first = run_training(step, project.context(step), project.home)
    second = run_training(step, project.context(step), project.home)

    assert first.outputs == second.outputs
    assert [path.name for path in (project.home / "jobs").iterdir()] == [first.outputs["job_name"]]
    assert list((project.home / "artifacts" / "tmp").iterdir()) == []
    artifacts = project.home / "artifacts"
    stored = sorted(path.relative_to(artifacts) for path in artifacts.rglob("*.tar.gz"))
    assert stored == sorted(
        [
            Path("sha256", first.details["artifact_sha256"], "model.tar.gz"),
            Path("sha256", first.details["output_sha256"], "output.tar.gz"),
        ]
    )


def write_tree(root: Path, mtime: int) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "b.txt").write_text("b")
    (root / "a.txt").write_text("a")
    (root / "sub" / "run.sh").write_text("#!/bin/sh\n")
    (root / "sub" / "run.sh").chmod(0o700)
    (root / "empty").mkdir()
    os.symlink("a.txt", root / "link")
    for path in [*root.rglob("*"), root]:
        os.utime(path, (mtime, mtime), follow_symlinks=False)


def test_packing_depends_only_on_names_content_and_exec_bits(tmp_path):
    write_tree(tmp_path / "one", 1_000_000)
    write_tree(tmp_path / "two", 2_000_000)
    archives = []
    for name in ("one", "two"):
        buffer = io.BytesIO()
        pack_folder_tar_gz(tmp_path / name, buffer)
        archives.append(buffer.getvalue())
    assert archives[0] == archives[1]

    with tarfile.open(fileobj=io.BytesIO(archives[0])) as tar:
        assert tar.getnames() == ["a.txt", "b.txt", "empty", "link", "sub", "sub/run.sh"]
        assert tar.getmember("sub/run.sh").mode == 0o755
        assert tar.getmember("link").issym() and tar.getmember("link").linkname == "a.txt"


def test_stored_artifacts_are_read_only_and_keyed_by_their_bytes(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(b"\x00\x01")
    store = ArtifactStore(tmp_path / "store")

    stored = store.put_folder(tmp_path / "model", "model.tar.gz")

    assert hashlib.sha256(stored.path.read_bytes()).hexdigest() == stored.digest
    assert stored.path == tmp_path / "store" / "sha256" / stored.digest / "model.tar.gz"
    assert stored.path.stat().st_mode & 0o777 == 0o444
    assert store.put_folder(tmp_path / "model", "model.tar.gz") == stored
