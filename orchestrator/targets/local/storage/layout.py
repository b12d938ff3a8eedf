"""Where the local S3 keeps its buckets on disk, and the read-only look-ups `plan` makes there.

One folder per bucket under `<home>/s3/`. An object is a small metadata file named by
the sha256 of its key, which names an immutable data file beside it: writing the
metadata file (temp file, fsync, rename) is the commit, so a daemon killed at any
moment leaves either the old object or the new one, never half of one. Only the
daemon writes here; `plan` and probes read. Standard library only: plan must start fast.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....spec.paths import BUCKET_NAME, s3_uri_problem

MAX_KEY_BYTES = 1024


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/some/key -> ("bucket", "some/key"); ValueError for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return bucket, key


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class S3Layout:
    root: Path  # <home>/s3

    def bucket_dir(self, bucket: str) -> Path:
        return self.root / bucket

    def bucket_file(self, bucket: str) -> Path:
        """The bucket's own settings: creation time, region, website configuration."""
        return self.bucket_dir(bucket) / "bucket.json"

    def objects_dir(self, bucket: str) -> Path:
        return self.bucket_dir(bucket) / "objects"

    def meta_path(self, bucket: str, key: str) -> Path:
        digest = key_digest(key)
        return self.objects_dir(bucket) / digest[:2] / f"{digest}.json"

    def data_path(self, bucket: str, key: str, token: str) -> Path:
        digest = key_digest(key)
        return self.objects_dir(bucket) / digest[:2] / f"{digest}.{token}.data"

    def uploads_dir(self, bucket: str) -> Path:
        """Multipart uploads in progress, one folder each, kept across restarts as S3 keeps them."""
        return self.bucket_dir(bucket) / "uploads"

    def scratch_dir(self, bucket: str) -> Path:
        return self.bucket_dir(bucket) / "tmp"

    # -- reading (any process) -----------------------------------------------------------
    def buckets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and (p / "bucket.json").is_file())

    def has_bucket(self, bucket: str) -> bool:
        return BUCKET_NAME.match(bucket) is not None and self.bucket_file(bucket).is_file()

    def read_meta(self, bucket: str, key: str) -> dict[str, Any] | None:
        if not self.has_bucket(bucket):
            return None
        meta = read_meta_file(self.meta_path(bucket, key))
        return meta if meta is not None and meta.get("key") == key else None

    def object_file(self, bucket: str, key: str) -> Path | None:
        """The data file of the committed object at `key`, or None."""
        meta = self.read_meta(bucket, key)
        return self.meta_path(bucket, key).with_name(meta["data"]) if meta else None

    def iter_metas(self, bucket: str) -> Iterator[dict[str, Any]]:
        folder = self.objects_dir(bucket)
        if not folder.is_dir():
            return
        for shard in folder.iterdir():
            for path in shard.glob("*.json"):
                meta = read_meta_file(path)
                if meta is not None:
                    yield meta

    def listing(self, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
        """Every object whose key starts with `prefix`, by key (a scan: for plan, not for serving)."""
        if not self.has_bucket(bucket):
            return []
        return sorted((m for m in self.iter_metas(bucket) if m["key"].startswith(prefix)), key=lambda m: m["key"])

    def missing_input(self, uri: str) -> tuple[str, str] | None:
        """(message, hint) when a step's s3:// input has nothing in the local S3; None when it has, or
        when the value is not one to look up here (a ${...} reference, a URI naming no bucket:
        validate says what is wrong with that one)."""
        if not uri.startswith("s3://") or s3_uri_problem(uri):
            return None
        if self.listing_digest(uri) is not None:
            return None
        bucket, key = split_s3_uri(uri)
        return (
            f"no object in the local S3 at {uri}",
            f"bucket {bucket!r}, key {key!r}: put it there with boto3 or the AWS CLI against the local "
            "cloud's S3, or name a file beside the spec",
        )

    def listing_digest(self, uri: str) -> str | None:
        """A digest of every object under an s3:// URI (key, ETag, size), as the aws target
        takes it; None when nothing is there."""
        bucket, prefix = split_s3_uri(uri)
        objects = self.listing(bucket, prefix)
        if not objects:
            return None
        digest = hashlib.sha256()
        for meta in objects:
            digest.update(f'{meta["key"]}\0"{meta["etag"]}"\0{meta["size"]}\n'.encode())
        return digest.hexdigest()


def read_meta_file(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("key"), str) else None
