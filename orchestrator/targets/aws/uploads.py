"""Getting a step's inputs and code onto S3, once.

Local files are stored under a content-addressed key,
`s3://{bucket}/{prefix}/inputs/sha256/<digest>/<name>`, so the same data is uploaded
once however many runs use it. `s3://` inputs are used in place; their listing
(keys, ETags, sizes) is their fingerprint, so changed data means a retrain.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...files import file_digest, pack_tar_gz, relative_files, tree_digest
from ..base import StepFailed

if TYPE_CHECKING:
    from .client import AwsClient


def split_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/some/key' -> ('bucket', 'some/key')."""
    if not uri.startswith("s3://"):
        raise StepFailed(f"Not an s3:// URI: {uri}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def s3_listing_fingerprint(client: AwsClient, uri: str) -> str:
    """A digest of every object under an s3:// prefix (key, ETag, size): changes when the data does."""
    bucket, prefix = split_s3_uri(uri)
    objects = client.list_objects(bucket, prefix)
    if not objects:
        raise StepFailed(f"No objects found under {uri}.", "Check the input's s3:// URI and that the data is there.")
    digest = hashlib.sha256()
    for obj in sorted(objects, key=lambda o: o["Key"]):
        digest.update(f"{obj['Key']}\0{obj.get('ETag', '')}\0{obj.get('Size', 0)}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class StagedInput:
    uri: str  # what the training job reads (an S3 prefix)
    fingerprint: str  # sha256 of the content (local) or of the listing (s3://)
    uploaded: int  # files uploaded by this call (0 when already there or used in place)


def stage_input(client: AwsClient, bucket: str, prefix: str, source: str, project_dir: Path) -> StagedInput:
    """One channel's data as an S3 URI: used in place when s3://, otherwise uploaded once."""
    if source.startswith("s3://"):
        return StagedInput(source, s3_listing_fingerprint(client, source), 0)
    path = (project_dir / source).resolve()
    if not path.exists():
        raise StepFailed(f"Input {source} does not exist.", f"Looked for {path.name} beside the spec.")
    if path.is_dir():
        entries = relative_files(path)  # the one file rule: what the step's fingerprint hashed
        digest = tree_digest(entries)
        files = {f"{path.name}/{name}": p for name, p in entries}
        target = f"{path.name}/"
    else:
        digest = file_digest(path)
        files = {path.name: path}
        target = path.name
    base = f"{prefix.strip('/')}/inputs/sha256/{digest}/"
    present = {obj["Key"] for obj in client.list_objects(bucket, base)}
    missing = {name: p for name, p in files.items() if base + name not in present}
    for name, local in sorted(missing.items()):
        client.upload_file(str(local), bucket, base + name)
    return StagedInput(f"s3://{bucket}/{base}{target}", digest, len(missing))


def pack_source_dir(folder: Path) -> bytes:
    """A reproducible sourcedir.tar.gz of the folder's files by the one file rule (no `.env`, `.venv/`, caches)."""
    archive = io.BytesIO()
    pack_tar_gz(relative_files(folder), archive)
    return archive.getvalue()


def upload_source_dir(client: AwsClient, bucket: str, prefix: str, folder: Path) -> str:
    """Pack a code folder to sourcedir.tar.gz on S3 under its digest; skipped when already there."""
    if not folder.is_dir():
        raise StepFailed(f"Source folder {folder.name} does not exist.")
    archive = pack_source_dir(folder)
    digest = hashlib.sha256(archive).hexdigest()
    key = f"{prefix.strip('/')}/code/sha256/{digest}/sourcedir.tar.gz"
    if not client.list_objects(bucket, key):
        client.put_object(bucket, key, archive)
    return f"s3://{bucket}/{key}"
