"""A small client of the local S3 for the orchestrator's own uploads (standard library only).

The daemon is the only writer of the store, so the command side (a finished training
job's model and data) writes through the S3 API too; a file is streamed, never read whole.
"""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import quote, urlparse

from ...base import StepFailed
from ..aws_env import PIPELINE_ACCESS_KEY_ID

TIMEOUT_S = 300.0


class LocalS3:
    def __init__(self, url: str):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80

    def _call(self, method: str, path: str, body=None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        try:
            # An access key in the usual place, so the S3 API knows this is the pipeline's own call.
            auth = f"AWS4-HMAC-SHA256 Credential={PIPELINE_ACCESS_KEY_ID}/local/s3/aws4_request"
            connection.request(method, path, body=body, headers={"Authorization": auth, **(headers or {})})
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as exc:
            raise StepFailed(f"cannot reach the local S3 on port {self.port}: {exc}") from exc
        finally:
            connection.close()

    @staticmethod
    def _path(bucket: str, key: str = "") -> str:
        return f"/{bucket}/{quote(key, safe='/~')}" if key else f"/{bucket}"

    def ensure_bucket(self, bucket: str) -> None:
        status, body = self._call("PUT", self._path(bucket))
        if status not in (200, 409):
            raise StepFailed(
                f"the local S3 refused to create bucket {bucket}: HTTP {status}", body.decode(errors="replace")
            )

    def exists(self, bucket: str, key: str) -> bool:
        return self._call("HEAD", self._path(bucket, key))[0] == 200

    def put_file(self, bucket: str, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        with open(path, "rb") as body:
            headers = {"Content-Type": content_type, "Content-Length": str(path.stat().st_size)}
            status, answer = self._call("PUT", self._path(bucket, key), body, headers)
        if status != 200:
            raise StepFailed(
                f"uploading s3://{bucket}/{key} to the local S3 failed: HTTP {status}", answer.decode(errors="replace")
            )
