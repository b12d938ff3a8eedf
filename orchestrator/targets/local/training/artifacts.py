"""Packed artifacts in the local S3, content-addressed: one digest, one object, never rewritten.

A model is stored at `s3://<bucket>/<prefix>/artifacts/sha256/<digest>/model.tar.gz`,
named by the sha256 of its bytes, so a URI recorded in state never changes meaning
(a Lambda's `s3_read` grant of it stays right), and a retrain that yields the same
model stores nothing new. Packing is `files.pack_folder_tar_gz`, whose bytes depend
only on names, content and exec bits, so "the same model" really gives the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ....files import file_digest, pack_folder_tar_gz, relative_files
from ....spec.models import Pipeline
from ..storage.client import LocalS3
from ..storage.layout import s3_uri


@dataclass(frozen=True)
class StoredArtifact:
    digest: str  # hex sha256 of the archive's bytes
    uri: str  # s3://...


def folder_is_empty(folder: Path) -> bool:
    """True when the folder holds no entries at all (missing counts as empty)."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except FileNotFoundError:
        return True


def artifact_bucket(pipeline: Pipeline) -> tuple[str, str]:
    """The bucket and key prefix of a pipeline's artifacts: the spec's `aws:` ones, so local URIs
    look like the aws target's; a pipeline that names none gets `<name>-artifacts`."""
    return pipeline.aws.bucket or f"{pipeline.name.lower()}-artifacts", pipeline.aws.prefix.strip("/")


class ArtifactStore:
    def __init__(self, s3: LocalS3, bucket: str, prefix: str, scratch: Path):
        self.s3, self.bucket, self.prefix, self.scratch = s3, bucket, prefix, scratch

    def key_for(self, digest: str, name: str) -> str:
        return "/".join(part for part in (self.prefix, "artifacts", "sha256", digest, name) if part)

    def put_folder(self, folder: Path, filename: str) -> StoredArtifact:
        """Pack a folder and store the archive; an identical archive already stored is reused."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=self.scratch, prefix=f".{filename}.", suffix=".partial")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                pack_folder_tar_gz(folder, handle)
            digest = file_digest(temp)
            key = self.key_for(digest, filename)
            self.s3.ensure_bucket(self.bucket)
            if not self.s3.exists(self.bucket, key):
                self.s3.put_file(self.bucket, key, temp, "application/x-tar")
            return StoredArtifact(digest, s3_uri(self.bucket, key))
        finally:
            temp.unlink(missing_ok=True)

    def put_files(self, folder: Path, digest: str, name: str) -> str:
        """Every file of `folder` under `.../sha256/<digest>/<name>/`; returns that prefix's URI (ends in `/`)."""
        prefix = self.key_for(digest, name) + "/"
        for relative, path in relative_files(folder):
            self.s3.put_file(self.bucket, prefix + relative, path)
        return s3_uri(self.bucket, prefix)
