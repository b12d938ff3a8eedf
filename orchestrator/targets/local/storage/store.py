"""The local S3's objects: buckets, streamed writes, ranged reads and listings, durable on disk.

The daemon is the only writer (layout.py says where things are). A write streams into
a temp file while its MD5 is computed, is fsynced, renamed to an immutable data file,
and committed by renaming its metadata file into place; the previous data file is
removed after. Listings come from an in-memory index of keys, rebuilt from the
metadata files when the daemon starts.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .layout import BUCKET_NAME, MAX_KEY_BYTES, S3Layout, read_meta_file

CHUNK = 1024 * 1024


class S3Error(Exception):
    """An S3 error answer: its code, HTTP status and message (s3xml renders it)."""

    def __init__(self, code: str, status: int, message: str, **fields: str):
        super().__init__(message)
        self.code, self.status, self.message, self.fields = code, status, message, fields


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", 404, "The specified bucket does not exist", BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", 404, "The specified key does not exist.", Key=key)


@dataclass
class ObjectMeta:
    key: str
    size: int
    etag: str  # without quotes
    last_modified: float
    data: str  # the data file's name, beside the metadata file
    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)  # x-amz-meta-*
    headers: dict[str, str] = field(default_factory=dict)  # cache-control, content-disposition, ...

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ObjectMeta:
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


def fsync_write(path: Path, text: str) -> None:
    """Write a small file atomically and durably: temp file, fsync, rename."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class Upload:
    """Bytes on their way into the store: a temp file and its MD5, until committed or dropped."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".upload.", suffix=".partial")
        self.path = Path(name)
        self.handle: BinaryIO = os.fdopen(fd, "wb")
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.handle.write(chunk)
        self.md5.update(chunk)
        self.size += len(chunk)

    def copy_from(self, path: Path, start: int = 0, length: int | None = None) -> None:
        with open(path, "rb") as source:
            source.seek(start)
            remaining = length
            while remaining is None or remaining > 0:
                chunk = source.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    break
                self.write(chunk)
                if remaining is not None:
                    remaining -= len(chunk)

    def finish(self) -> None:
        """Make the bytes durable (called off the event loop)."""
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()

    def discard(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.path.unlink(missing_ok=True)


class Bucket:
    def __init__(self, name: str, settings: dict[str, Any]):
        self.name = name
        self.settings = settings
        self.keys: list[str] = []  # sorted
        self.objects: dict[str, ObjectMeta] = {}

    def index(self, meta: ObjectMeta) -> None:
        if meta.key not in self.objects:
            bisect.insort(self.keys, meta.key)
        self.objects[meta.key] = meta

    def unindex(self, key: str) -> ObjectMeta | None:
        meta = self.objects.pop(key, None)
        if meta is not None:
            del self.keys[bisect.bisect_left(self.keys, key)]
        return meta


class ObjectStore:
    def __init__(self, root: Path, region: str = "us-east-1"):
        self.layout = S3Layout(root)
        self.region = region
        self.buckets: dict[str, Bucket] = {}
        root.mkdir(parents=True, exist_ok=True)
        for name in self.layout.buckets():
            self._load(name)

    def _load(self, name: str) -> None:
        settings = read_meta_file(self.layout.bucket_file(name)) or {"key": name}
        bucket = self.buckets[name] = Bucket(name, settings)
        referenced = set()
        for raw in self.layout.iter_metas(name):
            meta = ObjectMeta.from_json(raw)
            bucket.index(meta)
            referenced.add(meta.data)
        # Data files no metadata names were being replaced or deleted when the daemon stopped.
        for shard in self.layout.objects_dir(name).glob("*"):
            for path in shard.glob("*.data"):
                if path.name not in referenced:
                    path.unlink(missing_ok=True)
            for path in shard.glob(".*.tmp"):
                path.unlink(missing_ok=True)
        shutil.rmtree(self.layout.scratch_dir(name), ignore_errors=True)

    # -- buckets ---------------------------------------------------------------------------
    def bucket(self, name: str) -> Bucket:
        try:
            return self.buckets[name]
        except KeyError:
            raise no_such_bucket(name) from None

    def create_bucket(self, name: str) -> Bucket:
        if not BUCKET_NAME.match(name) or ".." in name:
            raise S3Error("InvalidBucketName", 400, "The specified bucket is not valid.", BucketName=name)
        if name in self.buckets:
            raise S3Error(
                "BucketAlreadyOwnedByYou",
                409,
                "Your previous request to create the named bucket succeeded and you already own it.",
                BucketName=name,
            )
        self.layout.objects_dir(name).mkdir(parents=True, exist_ok=True)
        settings = {"key": name, "created": time.time(), "region": self.region}
        fsync_write(self.layout.bucket_file(name), _json(settings))
        bucket = self.buckets[name] = Bucket(name, settings)
        return bucket

    def ensure_bucket(self, name: str) -> Bucket:
        return self.buckets.get(name) or self.create_bucket(name)

    def delete_bucket(self, name: str, force: bool = False) -> None:
        bucket = self.bucket(name)
        if bucket.keys and not force:
            raise S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", BucketName=name)
        del self.buckets[name]
        self.layout.bucket_file(name).unlink(missing_ok=True)  # the commit: no bucket.json, no bucket
        shutil.rmtree(self.layout.bucket_dir(name), ignore_errors=True)

    def set_bucket_setting(self, name: str, setting: str, value: Any) -> None:
        bucket = self.bucket(name)
        if value is None:
            bucket.settings.pop(setting, None)
        else:
            bucket.settings[setting] = value
        fsync_write(self.layout.bucket_file(name), _json(bucket.settings))

    # -- objects ---------------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> ObjectMeta:
        meta = self.bucket(bucket).objects.get(key)
        if meta is None:
            raise no_such_key(key)
        return meta

    def data_file(self, bucket: str, meta: ObjectMeta) -> Path:
        return self.layout.meta_path(bucket, meta.key).with_name(meta.data)

    def begin(self, bucket: str) -> Upload:
        self.bucket(bucket)
        return Upload(self.layout.scratch_dir(bucket))

    def commit(
        self,
        bucket: str,
        key: str,
        upload: Upload,
        content_type: str | None,
        metadata: dict[str, str],
        headers: dict[str, str],
        etag: str | None = None,
    ) -> ObjectMeta:
        """Make a finished upload the object at `key` (the upload must be `finish`ed)."""
        check_key(key)
        target = self.bucket(bucket)
        token = uuid.uuid4().hex[:16]
        data = self.layout.data_path(bucket, key, token)
        data.parent.mkdir(parents=True, exist_ok=True)
        os.replace(upload.path, data)
        meta = ObjectMeta(
            key=key,
            size=upload.size,
            etag=etag or upload.md5.hexdigest(),
            last_modified=time.time(),
            data=data.name,
            content_type=content_type or "binary/octet-stream",
            metadata=metadata,
            headers=headers,
        )
        self._publish(target, meta)
        return meta

    def link(self, source_bucket: str, source: ObjectMeta, bucket: str, key: str, **changes: Any) -> ObjectMeta:
        """CopyObject: the new object shares the source's immutable data file (a hard link)."""
        check_key(key)
        target = self.bucket(bucket)
        token = uuid.uuid4().hex[:16]
        data = self.layout.data_path(bucket, key, token)
        data.parent.mkdir(parents=True, exist_ok=True)
        os.link(self.data_file(source_bucket, source), data)
        fields = {**asdict(source), "key": key, "data": data.name, "last_modified": time.time(), **changes}
        meta = ObjectMeta(**fields)
        self._publish(target, meta)
        return meta

    def _publish(self, bucket: Bucket, meta: ObjectMeta) -> None:
        previous = bucket.objects.get(meta.key)
        fsync_write(self.layout.meta_path(bucket.name, meta.key), _json(asdict(meta)))
        bucket.index(meta)
        if previous is not None and previous.data != meta.data:
            self.data_file(bucket.name, previous).unlink(missing_ok=True)  # open readers keep their copy

    def delete(self, bucket: str, key: str) -> bool:
        target = self.bucket(bucket)
        meta = target.unindex(key)
        if meta is None:
            return False
        self.layout.meta_path(bucket, key).unlink(missing_ok=True)
        self.data_file(bucket, meta).unlink(missing_ok=True)
        return True

    # -- listing ---------------------------------------------------------------------------
    def list(
        self, bucket: str, prefix: str, delimiter: str, after: str, max_keys: int, skip: str | None = None
    ) -> tuple[list[ObjectMeta], list[str], bool, str | None]:
        """Objects and common prefixes after `after` (and not under `skip`), at most `max_keys` of both.

        Returns (objects, common prefixes, truncated, the last key or prefix returned).
        """
        target = self.bucket(bucket)
        keys = target.keys
        index = max(bisect.bisect_right(keys, after), bisect.bisect_left(keys, prefix))
        if skip:
            index = max(index, bisect.bisect_left(keys, skip + "\U0010ffff"))
        objects: list[ObjectMeta] = []
        prefixes: list[str] = []
        last: str | None = None
        while index < len(keys):
            key = keys[index]
            if not key.startswith(prefix):
                break
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if len(objects) + len(prefixes) >= max_keys:
                return objects, prefixes, True, last
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                prefixes.append(common)
                last = common
                # Skip every key under this common prefix: it is listed once.
                index = bisect.bisect_left(keys, common + "\U0010ffff", index)
                continue
            objects.append(target.objects[key])
            last = key
            index += 1
        return objects, prefixes, False, last


def check_key(key: str) -> None:
    if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", 400, "Your key is too long", Key=key[:64])


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True)
