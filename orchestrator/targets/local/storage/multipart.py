"""S3 multipart uploads on disk: each upload a folder of parts until it is completed or aborted.

As on S3, an upload survives restarts until it is completed or aborted; completing
streams the parts, in order, into one new object whose ETag is the MD5 of the parts'
MD5s followed by `-<number of parts>`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from .layout import read_meta_file
from .store import ObjectMeta, ObjectStore, S3Error, Upload, check_key, fsync_write

MIN_PART_SIZE = 5 * 1024 * 1024  # every part but the last (docs: "Amazon S3 multipart upload limits")
MAX_PART_NUMBER = 10000


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        "NoSuchUpload",
        404,
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed.",
        UploadId=upload_id,
    )


class Multipart:
    def __init__(self, store: ObjectStore):
        self.store = store

    def _folder(self, bucket: str, upload_id: str) -> Path:
        self.store.bucket(bucket)
        if not upload_id.isalnum():
            raise no_such_upload(upload_id)
        folder = self.store.layout.uploads_dir(bucket) / upload_id
        if not (folder / "upload.json").is_file():
            raise no_such_upload(upload_id)
        return folder

    def describe(self, bucket: str, upload_id: str) -> dict[str, Any]:
        return read_meta_file(self._folder(bucket, upload_id) / "upload.json") or {}

    def create(
        self, bucket: str, key: str, content_type: str | None, metadata: dict[str, str], headers: dict[str, str]
    ) -> str:
        check_key(key)
        self.store.bucket(bucket)
        upload_id = uuid.uuid4().hex
        folder = self.store.layout.uploads_dir(bucket) / upload_id
        folder.mkdir(parents=True)
        document = {
            "key": key,
            "content_type": content_type,
            "metadata": metadata,
            "headers": headers,
            "initiated": time.time(),
        }
        fsync_write(folder / "upload.json", json.dumps(document))
        return upload_id

    def begin_part(self, bucket: str, upload_id: str, number: int) -> Upload:
        if not 1 <= number <= MAX_PART_NUMBER:
            raise S3Error(
                "InvalidArgument", 400, f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive"
            )
        return Upload(self._folder(bucket, upload_id))

    def commit_part(self, bucket: str, upload_id: str, number: int, upload: Upload) -> str:
        folder = self._folder(bucket, upload_id)
        etag = upload.md5.hexdigest()
        data = folder / f"part-{number:05d}.{uuid.uuid4().hex[:12]}"
        upload.path.replace(data)
        record = folder / f"part-{number:05d}.json"
        previous = read_meta_file(record)
        fsync_write(record, json.dumps({"key": str(number), "etag": etag, "size": upload.size, "data": data.name}))
        if previous and previous.get("data") != data.name:
            (folder / previous["data"]).unlink(missing_ok=True)
        return etag

    def parts(self, bucket: str, upload_id: str) -> list[dict[str, Any]]:
        folder = self._folder(bucket, upload_id)
        found = []
        for path in sorted(folder.glob("part-*.json")):
            record = read_meta_file(path)
            if record is not None:
                found.append({**record, "number": int(record["key"]), "modified": path.stat().st_mtime})
        return found

    def uploads(self, bucket: str) -> list[tuple[str, dict[str, Any]]]:
        self.store.bucket(bucket)
        folder = self.store.layout.uploads_dir(bucket)
        found = []
        for path in sorted(folder.glob("*/upload.json")) if folder.is_dir() else ():
            document = read_meta_file(path)
            if document is not None:
                found.append((path.parent.name, document))
        return sorted(found, key=lambda item: (item[1]["key"], item[1]["initiated"]))

    def complete(self, bucket: str, upload_id: str, chosen: list[tuple[int, str]]) -> ObjectMeta:
        """Join the chosen parts (number, ETag) into the object; blocking, so run it off the event loop."""
        folder = self._folder(bucket, upload_id)
        document = self.describe(bucket, upload_id)
        available = {part["number"]: part for part in self.parts(bucket, upload_id)}
        if not chosen:
            raise S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate")
        numbers = [number for number, _ in chosen]
        if numbers != sorted(set(numbers)):
            raise S3Error("InvalidPartOrder", 400, "The list of parts was not in ascending order.")
        digests = hashlib.md5(usedforsecurity=False)
        for position, (number, etag) in enumerate(chosen):
            part = available.get(number)
            if part is None or part["etag"] != etag.strip('"'):
                raise S3Error(
                    "InvalidPart",
                    400,
                    "One or more of the specified parts could not be found. The part may not have been "
                    "uploaded, or the specified entity tag may not match the part's entity tag.",
                )
            if position < len(chosen) - 1 and part["size"] < MIN_PART_SIZE:
                raise S3Error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size")
            digests.update(bytes.fromhex(part["etag"]))
        upload = self.store.begin(bucket)
        try:
            for number, _ in chosen:
                upload.copy_from(folder / available[number]["data"])
            upload.finish()
            meta = self.store.commit(
                bucket,
                document["key"],
                upload,
                document.get("content_type"),
                document.get("metadata") or {},
                document.get("headers") or {},
                etag=f"{digests.hexdigest()}-{len(chosen)}",
            )
        except BaseException:
            upload.discard()
            raise
        shutil.rmtree(folder, ignore_errors=True)
        return meta

    def abort(self, bucket: str, upload_id: str) -> None:
        shutil.rmtree(self._folder(bucket, upload_id), ignore_errors=True)
