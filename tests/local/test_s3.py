"""The local S3 API, through boto3 as user code calls it: objects, listings, multipart, errors."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import signal
import socket

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

MB = 1024 * 1024


def s3_client(url: str, key: str = "local", secret: str = "local", token: str | None = None):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def s3_cloud(tmp_path_factory):
    from orchestrator.targets.local.daemon.client import DaemonClient

    from .conftest import stop_daemon

    client = DaemonClient(tmp_path_factory.mktemp("s3") / "home")
    with client.hold() as url:
        yield {"client": client, "url": url, "s3": s3_client(url)}
    stop_daemon(client)


@pytest.fixture
def bucket(s3_cloud, request):
    name = request.node.name.lower().replace("_", "-")[:50].strip("-")
    s3_cloud["s3"].create_bucket(Bucket=name)
    return name


def error_code(caught) -> str:
    return caught.value.response["Error"]["Code"]


def test_put_get_head_and_ranges(s3_cloud, bucket):
    s3 = s3_cloud["s3"]
    put = s3.put_object(
        Bucket=bucket, Key="a/b.txt", Body=b"hello world", ContentType="text/plain", Metadata={"k": "v"}
    )
    assert put["ETag"] == f'"{hashlib.md5(b"hello world").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="a/b.txt")
    assert got["Body"].read() == b"hello world"
    assert (got["ContentType"], got["ContentLength"], got["Metadata"]) == ("text/plain", 11, {"k": "v"})
    head = s3.head_object(Bucket=bucket, Key="a/b.txt")
    assert (head["ContentLength"], head["ETag"]) == (11, put["ETag"])
    part = s3.get_object(Bucket=bucket, Key="a/b.txt", Range="bytes=6-")
    assert (part["Body"].read(), part["ContentRange"], part["ResponseMetadata"]["HTTPStatusCode"]) == (
        b"world",
        "bytes 6-10/11",
        206,
    )
    assert s3.get_object(Bucket=bucket, Key="a/b.txt", Range="bytes=-3")["Body"].read() == b"rld"
    assert s3.get_object(Bucket=bucket, Key="a/b.txt", Range="bytes=0-4")["Body"].read() == b"hello"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="a/b.txt", Range="bytes=50-60")
    assert error_code(caught) == "InvalidRange"
    # boto3's resource API, as the churn Lambda reads its transform
    resource = boto3.resource(
        "s3", endpoint_url=s3_cloud["url"], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    assert resource.Object(bucket, "a/b.txt").get()["Body"].read() == b"hello world"


def test_s3_errors_are_s3s_xml_codes(s3_cloud, bucket):
    s3 = s3_cloud["s3"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="missing")
    assert error_code(caught) == "NoSuchKey"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.get_object(Bucket="no-such-bucket", Key="x")
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="missing")
    assert error_code(caught) == "404"  # HEAD answers carry no body, so botocore reports the status
    with pytest.raises(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    assert error_code(caught) == "BucketNotEmpty"
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket="Not_Valid")
    assert error_code(caught) == "InvalidBucketName"


def test_list_objects_v2_with_prefix_delimiter_and_pages(s3_cloud, bucket):
    s3 = s3_cloud["s3"]
    keys = ["a.txt", "dir/1.txt", "dir/2.txt", "dir/sub/3.txt", "other/x", "z y+z.txt"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == sorted(keys)
    assert listed["KeyCount"] == len(keys) and listed["IsTruncated"] is False
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "z y+z.txt"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "other/"]
    inside = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in inside["Contents"]] == ["dir/1.txt", "dir/2.txt"]
    assert [p["Prefix"] for p in inside["CommonPrefixes"]] == ["dir/sub/"]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
    seen = [[o["Key"] for o in page.get("Contents", [])] for page in pages]
    assert seen == [["a.txt", "dir/1.txt"], ["dir/2.txt", "dir/sub/3.txt"], ["other/x", "z y+z.txt"]]
    rolled = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}
    )
    entries = [(o["Key"] for o in p.get("Contents", [])) for p in rolled]
    assert [k for page in entries for k in page] == ["a.txt", "z y+z.txt"]
    assert s3.list_objects_v2(Bucket=bucket, StartAfter="dir/2.txt", MaxKeys=1)["Contents"][0]["Key"] == "dir/sub/3.txt"
    assert [
        o.key
        for o in boto3.resource(
            "s3",
            endpoint_url=s3_cloud["url"],
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        .Bucket(bucket)
        .objects.filter(Prefix="dir/")
    ] == ["dir/1.txt", "dir/2.txt", "dir/sub/3.txt"]


def test_copy_and_delete_objects(s3_cloud, bucket):
    s3 = s3_cloud["s3"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", ContentType="text/csv", Metadata={"m": "1"})
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    copied = s3.get_object(Bucket=bucket, Key="copy")
    assert (copied["Body"].read(), copied["ContentType"], copied["Metadata"]) == (b"data", "text/csv", {"m": "1"})
    s3.copy_object(
        Bucket=bucket, Key="src", CopySource=f"{bucket}/src", MetadataDirective="REPLACE", ContentType="text/plain"
    )
    assert s3.head_object(Bucket=bucket, Key="src")["ContentType"] == "text/plain"
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert error_code(caught) == "InvalidRequest"
    s3.delete_object(Bucket=bucket, Key="src")
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"data"  # copies do not share fate
    s3.delete_object(Bucket=bucket, Key="never-was")  # S3 answers 204 for a missing key too
    for n in range(3):
        s3.put_object(Bucket=bucket, Key=f"many/{n}", Body=b"x")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"many/{n}"} for n in range(3)]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["many/0", "many/1", "many/2"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == ["copy"]


def test_multipart_upload_and_managed_transfers_stream_large_objects(s3_cloud, bucket, tmp_path):
    s3 = s3_cloud["s3"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin", ContentType="application/x-test")
    parts = [os.urandom(5 * MB), os.urandom(123)]
    etags = [
        s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"], PartNumber=n + 1, Body=body)["ETag"]
        for n, body in enumerate(parts)
    ]
    assert [
        p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"])["Parts"]
    ] == [1, 2]
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": etag} for n, etag in enumerate(etags)]},
    )
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-2"'
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == b"".join(parts)
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentType"] == "application/x-test"
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"], PartNumber=1, Body=b"x")
    assert error_code(caught) == "NoSuchUpload"

    small = s3.create_multipart_upload(Bucket=bucket, Key="small")
    tags = [
        s3.upload_part(Bucket=bucket, Key="small", UploadId=small["UploadId"], PartNumber=n, Body=b"x")["ETag"]
        for n in (1, 2)
    ]
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="small",
            UploadId=small["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": t} for n, t in zip((1, 2), tags, strict=True)]},
        )
    assert error_code(caught) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small["UploadId"])

    source = tmp_path / "model.tar.gz"  # 20 MB: upload_file and download_file go multipart and ranged
    source.write_bytes(os.urandom(20 * MB))
    s3.upload_file(str(source), bucket, "models/model.tar.gz")
    assert s3.head_object(Bucket=bucket, Key="models/model.tar.gz")["ETag"].endswith('-3"')
    target = tmp_path / "back.tar.gz"
    s3.download_file(bucket, "models/model.tar.gz", str(target))
    assert target.read_bytes() == source.read_bytes()
    s3.copy({"Bucket": bucket, "Key": "models/model.tar.gz"}, bucket, "models/copy.tar.gz")  # multipart copy
    body = io.BytesIO()
    s3.download_fileobj(bucket, "models/copy.tar.gz", body)
    assert body.getvalue() == source.read_bytes()


def test_objects_survive_a_killed_daemon(tmp_path):
    from orchestrator.targets.local.daemon.client import DaemonClient

    from .conftest import stop_daemon

    client = DaemonClient(tmp_path / "home")
    try:
        with client.hold() as url:
            s3 = s3_client(url)
            s3.create_bucket(Bucket="durable")
            s3.put_object(Bucket="durable", Key="k/one", Body=b"first")
            s3.put_object(Bucket="durable", Key="k/one", Body=b"second")
            s3.put_object(Bucket="durable", Key="k/two", Body=b"2")
            pid = client.info()["pid"]
            os.kill(pid, signal.SIGKILL)
            assert client.wait_stopped(pid, 5)
        with client.hold() as again:
            assert again == url  # the same port, so what was told the address still reaches it
            s3 = s3_client(again)
            assert s3.get_object(Bucket="durable", Key="k/one")["Body"].read() == b"second"
            assert [o["Key"] for o in s3.list_objects_v2(Bucket="durable")["Contents"]] == ["k/one", "k/two"]
            data_files = list((client.home.s3_dir / "durable" / "objects").rglob("*.data"))
            assert len(data_files) == 2  # the replaced object's bytes were removed
    finally:
        stop_daemon(client)


def test_a_held_cloud_stops_when_the_hold_ends(tmp_path):
    from orchestrator.targets.local.daemon import control
    from orchestrator.targets.local.daemon.client import DaemonClient

    client = DaemonClient(tmp_path / "home")
    with client.hold():
        pid = client.info()["pid"]
    # No service and no hold: the daemon exits once its idle grace has passed.
    assert client.wait_stopped(pid, control.IDLE_AFTER_HOLD_S + 15)


@pytest.fixture
def in_process_s3(tmp_path):
    """The S3 API on a uvicorn server of this test's own, so the test can issue credentials."""
    import asyncio
    import threading

    import uvicorn

    from orchestrator.targets.local.daemon.servers import bind
    from orchestrator.targets.local.storage.access import Access
    from orchestrator.targets.local.storage.s3api import S3Api
    from orchestrator.targets.local.storage.store import ObjectStore

    access = Access()
    sock = bind(0)
    server = uvicorn.Server(uvicorn.Config(S3Api(ObjectStore(tmp_path / "s3"), access), log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", access
    server.should_exit = True
    thread.join(10)


def test_a_read_grant_allows_exactly_its_objects(in_process_s3):
    url, access = in_process_s3
    admin = s3_client(url)
    admin.create_bucket(Bucket="artifacts")
    for key in ("features/model.tar.gz", "features/other.txt", "shared/a.csv", "shared/deep/b.csv"):
        admin.put_object(Bucket="artifacts", Key=key, Body=key.encode())
    granted = access.issue("churn-fn", ("s3://artifacts/features/model.tar.gz", "s3://artifacts/shared/"))
    reader = s3_client(url, granted.access_key_id, granted.secret_access_key, granted.session_token)
    assert reader.get_object(Bucket="artifacts", Key="features/model.tar.gz")["Body"].read() == b"features/model.tar.gz"
    assert reader.head_object(Bucket="artifacts", Key="shared/deep/b.csv")["ContentLength"] == len("shared/deep/b.csv")
    for call in (
        lambda: reader.get_object(Bucket="artifacts", Key="features/other.txt"),
        lambda: reader.get_object(Bucket="artifacts", Key="shared/missing.csv"),  # no ListBucket: not NoSuchKey
        lambda: reader.put_object(Bucket="artifacts", Key="shared/new.csv", Body=b"x"),
        lambda: reader.list_objects_v2(Bucket="artifacts"),
        lambda: reader.delete_object(Bucket="artifacts", Key="shared/a.csv"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_code(caught) == "AccessDenied"
        assert "churn-fn" in caught.value.response["Error"]["Message"]
    access.revoke(granted)
    assert reader.list_objects_v2(Bucket="artifacts")["KeyCount"] == 4  # an unknown key is the pipeline's own


def test_aws_chunked_bodies_are_decoded():
    from orchestrator.targets.local.storage.s3http import ChunkDecoder

    framed = b"5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"
    decoder = ChunkDecoder()
    out = b"".join(decoder.feed(framed[i : i + 3]) for i in range(0, len(framed), 3))
    assert (out, decoder.state) == (b"hello world", "done")


def test_a_put_declaring_over_5_gb_is_entity_too_large_before_its_body_is_read(s3_cloud, bucket):
    """S3's limit for one PutObject or part; the answer comes without waiting for the body."""
    port = int(s3_cloud["url"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            f"PUT /{bucket}/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {5 * 1024**3 + 1}\r\n\r\n".encode()
        )
        answer = b""
        while b"</Error>" not in answer:
            chunk = conn.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ") and b"<Code>EntityTooLarge</Code>" in answer
    assert b"<MaxSizeAllowed>5368709120</MaxSizeAllowed>" in answer


@pytest.mark.parametrize("declared", [True, False])
def test_an_upload_of_unknown_size_stops_at_the_limit_without_writing_past_it(tmp_path, monkeypatch, declared):
    from orchestrator.targets.local.storage import s3http
    from orchestrator.targets.local.storage.store import S3Error, Upload

    monkeypatch.setattr(s3http, "MAX_UPLOAD", 10)
    pieces = [b"abcd"] * 5
    headers = [(b"content-length", b"20")] if declared else [(b"transfer-encoding", b"chunked")]
    scope = {"method": "PUT", "path": "/b/k", "raw_path": b"/b/k", "query_string": b"", "headers": headers}
    request = s3http.S3Request.from_scope(scope)
    sent = []

    async def receive():
        sent.append(pieces[len(sent)])
        return {"type": "http.request", "body": sent[-1], "more_body": len(sent) < len(pieces)}

    (tmp_path / "scratch").mkdir()
    upload = Upload(tmp_path / "scratch")
    with pytest.raises(S3Error) as caught:
        asyncio.run(s3http.read_into(receive, request, upload))
    assert caught.value.code == "EntityTooLarge"
    assert upload.size <= 10 and len(sent) == (0 if declared else 3)
    upload.discard()
