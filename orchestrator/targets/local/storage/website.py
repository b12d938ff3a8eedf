"""An S3 static website: index and error documents, content types, the generated config.

Only files inside the site folder are ever served: `..`, encoded variants and symlinks
that lead out of it all end at the error document, as a missing S3 key would. So does
whatever `files.is_ignored` says is never a step's (`.env`, `.git/`, `.orchestrator/`
with the control token, `node_modules/`, ...; `.well-known/` is served): the source
folder is often the project itself, and the plan's fingerprint leaves those out too.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

from ....files import is_ignored
from ...website_config import render_config
from ..asgi import Request, respond
from ..daemon.protocol import WebsiteRequest

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


def content_type(path: Path) -> str:
    media = TEXT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media.startswith("text/") or media in ("application/javascript", "application/json", "image/svg+xml"):
        return f"{media}; charset=utf-8"
    return media


class Website:
    def __init__(self, spec: WebsiteRequest):
        self.spec = spec
        self.root = Path(spec.source).resolve()
        self.config_body, self.config_type = render_config(spec.config, spec.config_file)

    def _inside(self, key: str) -> Path | None:
        """The file for an object key, or None if it is missing or outside the site."""
        if "\x00" in key or "\\" in key:
            return None
        parts = [p for p in key.split("/") if p]
        if any(is_ignored(p, is_dir=True) for p in parts[:-1]):  # `.`, `..` and hidden folders too
            return None
        candidate = (self.root.joinpath(*parts)).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None
        if parts and is_ignored(parts[-1], is_dir=candidate.is_dir()):
            return None
        return candidate

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope)
        if request.method not in ("GET", "HEAD"):
            await respond(send, 405, b"Method Not Allowed", [("content-type", "text/plain"), ("allow", "GET, HEAD")])
            return
        head = request.method == "HEAD"
        key = request.path.lstrip("/")
        if key == self.spec.config_file:
            await self._send(send, 200, self.config_body, self.config_type, head)
            return
        if key == "" or key.endswith("/"):
            key += self.spec.index
        target = self._inside(key)
        if target is not None and target.is_dir():
            if (target / self.spec.index).is_file():
                location = quote(request.path, safe="/") + "/"
                await respond(send, 302, b"", [("location", location)])
                return
            target = None
        if target is None or not target.is_file():
            await self._not_found(send, head)
            return
        await self._send(send, 200, target.read_bytes(), content_type(target), head)

    async def _not_found(self, send, head: bool) -> None:
        page = self._inside(self.spec.error)
        if page is not None and page.is_file():
            await self._send(send, 404, page.read_bytes(), content_type(page), head)
        else:
            await self._send(send, 404, NOT_FOUND_PAGE, "text/html; charset=utf-8", head)

    @staticmethod
    async def _send(send, status: int, body: bytes, media: str, head: bool) -> None:
        headers = [("content-type", media), ("cache-control", "no-cache")]
        if head:
            headers.append(("content-length", str(len(body))))
            raw = [(k.encode(), v.encode()) for k, v in headers]
            await send({"type": "http.response.start", "status": status, "headers": raw})
            await send({"type": "http.response.body", "body": b""})
            return
        await respond(send, status, body, headers)
