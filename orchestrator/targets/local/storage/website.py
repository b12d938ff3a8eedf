"""An S3 website: a bucket of the local S3 served with S3's website-endpoint rules.

Publishing copies the site folder into the bucket by the one file rule of files.py
(`.env`, `.git/`, `.orchestrator/` with the control token, `node_modules/`, ... are
never a step's; `.well-known/` is), plus the generated config file, and drops
objects the folder no longer has; files that resolve outside the folder (symlinks)
are left out. Serving then reads only objects: a key is looked up, never a path, so
`..` and encoded variants cannot reach outside. A folder key without its slash is
redirected when `<key>/<index>` exists, and a missing key gets the error document
with 404, as S3 website endpoints do.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

from ....files import relative_files
from ...website_config import render_config
from ..asgi import Request, respond
from ..daemon.protocol import WebsiteRequest
from .s3http import object_headers, stream_file
from .s3http import respond as respond_head
from .store import ObjectStore

TEXT_TYPES = {
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".json": "application/json",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".txt": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".map": "application/json",
}
NOT_FOUND_PAGE = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
SITE_HEADERS = {"cache-control": "no-cache"}  # a page being worked on is never served stale


def content_type(path: Path) -> str:
    media = TEXT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media.startswith("text/") or media in ("application/javascript", "application/json", "image/svg+xml"):
        return f"{media}; charset=utf-8"
    return media


def site_files(source: Path) -> list[tuple[str, Path]]:
    """(key, file) for what of the folder is published: the step's files that stay inside it."""
    root = source.resolve()
    return [(key, path) for key, path in relative_files(source) if path.resolve().is_relative_to(root)]


def publish(store: ObjectStore, bucket: str, spec: WebsiteRequest) -> int:
    """Make the bucket hold exactly the site (and its config file); returns the number of objects."""
    store.ensure_bucket(bucket)
    keep = set()
    for key, path in site_files(Path(spec.source)):
        upload = store.begin(bucket)
        try:
            upload.copy_from(path)
            upload.finish()
            store.commit(bucket, key, upload, content_type(path), {}, dict(SITE_HEADERS))
        except BaseException:
            upload.discard()
            raise
        keep.add(key)
    body, media = render_config(spec.config, spec.config_file)
    upload = store.begin(bucket)
    upload.write(body)
    upload.finish()
    store.commit(bucket, spec.config_file, upload, media, {}, dict(SITE_HEADERS))
    keep.add(spec.config_file)
    for key in [k for k in store.bucket(bucket).keys if k not in keep]:
        store.delete(bucket, key)
    store.set_bucket_setting(bucket, "website", {"index": spec.index, "error": spec.error})
    return len(keep)


class Website:
    def __init__(self, store: ObjectStore, bucket: str):
        self.store = store
        self.bucket = bucket

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope)
        if request.method not in ("GET", "HEAD"):
            await respond(send, 405, b"Method Not Allowed", [("content-type", "text/plain"), ("allow", "GET, HEAD")])
            return
        bucket = self.store.buckets.get(self.bucket)
        config = bucket.settings.get("website") if bucket else None
        if config is None:
            await respond(send, 404, NOT_FOUND_PAGE, [("content-type", "text/html; charset=utf-8")])
            return
        head = request.method == "HEAD"
        key = request.path.lstrip("/")
        if key == "" or key.endswith("/"):
            key += config["index"]
        meta = bucket.objects.get(key)
        if meta is None and f"{key}/{config['index']}" in bucket.objects:
            await respond(send, 302, b"", [("location", quote(request.path, safe="/") + "/")])
            return
        status = 200
        if meta is None:
            status, meta = 404, bucket.objects.get(config.get("error") or "")
        if meta is None:
            await respond(send, 404, b"" if head else NOT_FOUND_PAGE, [("content-type", "text/html; charset=utf-8")])
            return
        headers = object_headers(meta)
        if head:
            await respond_head(send, status, [*headers, ("content-length", str(meta.size))], head=True)
            return
        await stream_file(send, status, headers, self.store.data_file(self.bucket, meta), 0, meta.size)
