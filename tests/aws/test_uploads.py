"""Inputs reach S3 once, under their content's digest; s3:// data is fingerprinted by listing."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading

import pytest

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.aws.uploads import (
    pack_source_dir,
    s3_listing_fingerprint,
    stage_input,
    upload_source_dir,
)
from orchestrator.targets.base import StepFailed, TargetError

from .aws_support import BUCKET, make_pipeline, new_client


def test_local_file_is_uploaded_once_under_its_digest(account, project, boto):
    digest = hashlib.sha256((project / "data" / "reviews.csv").read_bytes()).hexdigest()
    client = new_client()
    first = stage_input(client, BUCKET, "orchestrator", "data/reviews.csv", project)
    assert first.uri == f"s3://{BUCKET}/orchestrator/inputs/sha256/{digest}/reviews.csv"
    assert first.uploaded == 1 and first.fingerprint == digest
    body = boto["s3"].get_object(Bucket=BUCKET, Key=f"orchestrator/inputs/sha256/{digest}/reviews.csv")["Body"].read()
    assert body == (project / "data" / "reviews.csv").read_bytes()

    again = new_client()
    second = stage_input(again, BUCKET, "orchestrator", "data/reviews.csv", project)
    assert second.uri == first.uri and second.uploaded == 0
    assert again.calls == {("ListObjectsV2", "read"): 1}


def test_local_folder_uploads_only_missing_files(account, project, boto):
    (project / "data" / "extra.csv").write_text("fine,1\n")
    client = new_client()
    staged = stage_input(client, BUCKET, "orchestrator", "data", project)
    assert staged.uri.endswith("/data/") and staged.uploaded == 2
    key = staged.uri.split("/", 3)[3] + "extra.csv"
    boto["s3"].delete_object(Bucket=BUCKET, Key=key)
    assert stage_input(new_client(), BUCKET, "orchestrator", "data", project).uploaded == 1


def test_missing_local_input(account, project):
    with pytest.raises(StepFailed, match=r"^Input data/missing.csv does not exist.$"):
        stage_input(new_client(), BUCKET, "orchestrator", "data/missing.csv", project)


def test_s3_input_is_used_in_place_and_fingerprinted_by_listing(account, boto, project):
    boto["s3"].put_object(Bucket=BUCKET, Key="raw/a.csv", Body=b"1")
    boto["s3"].put_object(Bucket=BUCKET, Key="raw/b.csv", Body=b"2")
    client = new_client()
    staged = stage_input(client, BUCKET, "orchestrator", f"s3://{BUCKET}/raw/", project)
    assert staged.uri == f"s3://{BUCKET}/raw/" and staged.uploaded == 0
    before = s3_listing_fingerprint(client, f"s3://{BUCKET}/raw/")
    assert before == staged.fingerprint
    assert s3_listing_fingerprint(client, f"s3://{BUCKET}/raw/") == before  # stable

    boto["s3"].put_object(Bucket=BUCKET, Key="raw/b.csv", Body=b"22")
    changed = s3_listing_fingerprint(client, f"s3://{BUCKET}/raw/")
    assert changed != before
    boto["s3"].put_object(Bucket=BUCKET, Key="raw/c.csv", Body=b"3")
    assert s3_listing_fingerprint(client, f"s3://{BUCKET}/raw/") not in (before, changed)
    assert all(kind == "read" for _, kind in client.calls)


def test_empty_s3_input(account):
    with pytest.raises(StepFailed, match=rf"^No objects found under s3://{BUCKET}/nothing/.$"):
        s3_listing_fingerprint(new_client(), f"s3://{BUCKET}/nothing/")


def test_sourcedir_archive_is_reproducible_and_uploaded_once(account, project):
    first = pack_source_dir(project / "models")
    (project / "models" / "train.py").touch()  # a new mtime changes nothing
    assert pack_source_dir(project / "models") == first
    client = new_client()
    uri = upload_source_dir(client, BUCKET, "orchestrator", project / "models")
    assert uri == f"s3://{BUCKET}/orchestrator/code/sha256/{hashlib.sha256(first).hexdigest()}/sourcedir.tar.gz"
    again = new_client()
    assert upload_source_dir(again, BUCKET, "orchestrator", project / "models") == uri
    assert again.counts() == {"read": 1, "write": 0, "total": 1}


def test_a_virtualenv_or_env_file_in_the_source_folder_is_not_uploaded(account, project):
    """The one file rule (files.py), as the step's fingerprint hashes it: no `.env`, `.venv/`, caches."""
    before = pack_source_dir(project / "models")
    (project / "models" / ".env").write_text("SECRET=1\n")
    for name in (".venv/lib/python3.11/site.py", "venv/bin/activate", "__pycache__/train.cpython-311.pyc"):
        (project / "models" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "models" / name).write_text("x")
    (project / "models" / "util.pyc").write_bytes(b"\0")
    archive = pack_source_dir(project / "models")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert sorted(tar.getnames()) == ["inference.py", "train.py"]
    assert archive == before


def test_staged_data_folders_follow_the_same_rule(account, project, boto):
    (project / "data" / ".env").write_text("SECRET=1\n")
    (project / "data" / ".cache").mkdir()
    (project / "data" / ".cache" / "x.csv").write_text("1\n")
    staged = stage_input(new_client(), BUCKET, "orchestrator", "data", project)
    prefix = staged.uri.split("/", 3)[3]
    listed = [o["Key"] for o in boto["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]
    assert listed == [prefix + "reviews.csv"]


def test_target_lists_s3_inputs_for_the_run_fingerprints(account, boto, project):
    boto["s3"].put_object(Bucket=BUCKET, Key="raw/a.csv", Body=b"1")
    pipeline = make_pipeline(
        {"t": {"type": "training", "image": "i", "inputs": {"a": f"s3://{BUCKET}/raw/"}}}, **account
    )
    client = new_client()
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=client)
    uri = f"s3://{BUCKET}/raw/"
    assert target.data_digests([uri, uri]) == {uri: s3_listing_fingerprint(new_client(), uri)}
    assert client.calls == {("ListObjectsV2", "read"): 1}
    with pytest.raises(TargetError, match=rf"^No objects found under s3://{BUCKET}/gone/.$"):
        target.data_digests([f"s3://{BUCKET}/gone/"])


class FlakyS3(http.server.ThreadingHTTPServer):
    """An S3 stand-in on 127.0.0.1 that answers the first PUTs as an overloaded S3 does (503 SlowDown, 500)."""

    def __init__(self, failures: list[tuple[int, str]]):
        self.failures = list(failures)
        self.seen: list[tuple[str, int]] = []
        super().__init__(("127.0.0.1", 0), _FlakyHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FlakyHandler(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.failures:
            status, code = self.server.failures.pop(0)
            body = f"<Error><Code>{code}</Code><Message>Please reduce your request rate.</Message></Error>".encode()
        else:
            status, body = 200, b""
        self.server.seen.append(("PUT", status))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 200:
            self.send_header("ETag", '"d41d8cd98f00b204e9800998ecf8427e"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_an_upload_outlasts_slowdown_and_server_errors(aws_env, monkeypatch):
    """Uploads are content-addressed, so botocore's standard retry mode may repeat them: one 503 or 500 fails nothing."""
    s3 = FlakyS3([(503, "SlowDown"), (500, "InternalError")])
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
    try:
        client = new_client()
        client.put_object(BUCKET, "orchestrator/code/sha256/abc/sourcedir.tar.gz", b"archive")
    finally:
        s3.shutdown()
    assert s3.seen == [("PUT", 503), ("PUT", 500), ("PUT", 200)]
    assert client.calls == {("PutObject", "write"): 1}  # one call of ours; botocore repeated the request
