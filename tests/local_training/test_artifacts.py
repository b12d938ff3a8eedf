"""Identical models give identical archives, stored once, and reruns leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

from orchestrator.files import pack_folder_tar_gz
from orchestrator.targets.local.daemon.client import DaemonClient
from orchestrator.targets.local.storage.client import LocalS3
from orchestrator.targets.local.training.artifacts import ArtifactStore
from orchestrator.targets.local.training.job import run_training

from .conftest import stored, stored_keys

ARTIFACTS = "s3://movie-reviews-artifacts/orchestrator/artifacts/sha256/"


def test_the_same_model_trained_twice_has_the_same_digest(project, reviews_csv, sklearn_script):
    step = project.step(entry_point=sklearn_script(), inputs={"train": "data/reviews.csv"}, hyperparameters={"C": 0.5})

    first = run_training(step, project.context(step, fingerprint="aaaaaaaaaaaa01"), project.home)
    second = run_training(step, project.context(step, fingerprint="bbbbbbbbbbbb02"), project.home)

    assert first.outputs["job_name"] != second.outputs["job_name"]
    assert first.details["artifact_sha256"] == second.details["artifact_sha256"]
    assert first.outputs["model"] == second.outputs["model"]
    assert first.outputs["model"] == f"{ARTIFACTS}{first.details['artifact_sha256']}/model.tar.gz"
    assert stored_keys(project.home, ARTIFACTS) == [first.outputs["model"].split("/", 3)[3]]  # stored once

    with tarfile.open(stored(project.home, first.outputs["model"])) as tar:
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
    prefix = "orchestrator/artifacts/sha256/"
    assert stored_keys(project.home, ARTIFACTS) == sorted(
        [
            f"{prefix}{first.details['artifact_sha256']}/model.tar.gz",
            f"{prefix}{first.details['output_sha256']}/output.tar.gz",  # as SageMaker stores it, and unpacked:
            f"{prefix}{first.details['output_sha256']}/data/stale.txt",
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


def test_stored_artifacts_are_keyed_by_their_bytes_and_stored_once(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(b"\x00\x01")
    home = tmp_path / "home"
    with DaemonClient(home).hold() as url:
        store = ArtifactStore(LocalS3(url), "bucket", "team/project", tmp_path / "scratch")
        stored_once = store.put_folder(tmp_path / "model", "model.tar.gz")
        path = stored(home, stored_once.uri)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == stored_once.digest
        assert stored_once.uri == f"s3://bucket/team/project/artifacts/sha256/{stored_once.digest}/model.tar.gz"
        assert store.put_folder(tmp_path / "model", "model.tar.gz") == stored_once
        assert stored(home, stored_once.uri) == path  # not uploaded again: the same data file
        assert list((tmp_path / "scratch").iterdir()) == []
