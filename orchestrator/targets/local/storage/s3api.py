"""The local S3 REST API (path-style), as boto3 calls it: buckets, objects, listings, multipart.

Each request is routed by method, bucket, key and sub-resource to one operation;
every refusal is an S3Error, rendered as S3's XML error (no body for HEAD), so
botocore raises the same `ClientError` codes as against AWS.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from urllib.parse import quote, unquote

from ..asgi import Receive, Send, drain
from . import s3xml
from .access import Access, access_key_of
from .multipart import Multipart
from .s3http import S3Request, byte_range, check_conditions, object_headers, read_into, read_small, respond, stream_file
from .s3xml import element
from .store import ObjectStore, S3Error

log = logging.getLogger("orchestrator.local.s3")
MAX_KEYS = 1000
DRAIN_LIMIT = 16 * 1024 * 1024  # an error's unread body is read and dropped up to this, to keep the connection
XML = ("content-type", "application/xml")


class S3Api:
    def __init__(self, store: ObjectStore, access: Access):
        self.store = store
        self.access = access
        self.multipart = Multipart(store)

    async def __call__(self, scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = S3Request.from_scope(scope)
        base = [("x-amz-request-id", request.request_id), ("x-amz-id-2", request.request_id)]
        body_read = False

        async def tracked() -> dict:
            nonlocal body_read
            message = await receive()
            body_read = message["type"] == "http.disconnect" or not message.get("more_body", False)
            return message

        try:
            status, headers, body = await self._route(request, tracked, send)
        except S3Error as error:
            if error.status >= 500:
                log.error("%s %s/%s: %s", request.method, request.bucket, request.key, error)
            # A body over S3's upload limit is not read to its end, whatever it declared.
            if not body_read and (error.code == "EntityTooLarge" or not await drain(tracked, DRAIN_LIMIT)):
                base.append(("connection", "close"))  # too much left unread: the connection cannot be reused
            await respond(
                send,
                error.status,
                [*base, XML],
                s3xml.error_document(error, request.request_id),
                request.method == "HEAD",
            )
            return
        if status:  # 0: the operation streamed its own answer
            await respond(send, status, [*base, *headers], body, request.method == "HEAD")

    def _allow(self, request: S3Request, action: str, bucket: str, key: str | None = None) -> None:
        access_key = access_key_of(request.headers.get("authorization"), request.query_string)
        self.access.check(access_key, action, bucket, key)

    async def _route(self, request: S3Request, receive: Receive, send: Send) -> tuple[int, list, bytes]:
        method, bucket, key, query = request.method, request.bucket, request.key, request.query
        if bucket is None:
            if method == "GET":
                self._allow(request, "ListAllMyBuckets", "*")
                buckets = [
                    (b.name, b.settings.get("created", 0.0))
                    for b in sorted(self.store.buckets.values(), key=lambda b: b.name)
                ]
                return 200, [XML], s3xml.buckets_document(buckets)
            raise S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
        if key is None:
            return await self._bucket(request, bucket, receive)
        if "uploadId" in query or (method == "POST" and "uploads" in query):
            return await self._multipart(request, bucket, key, receive)
        if method == "PUT":
            if "x-amz-copy-source" in request.headers:
                return self._copy(request, bucket, key)
            return await self._put(request, bucket, key, receive)
        if method in ("GET", "HEAD"):
            await self._get(request, bucket, key, send)
            return 0, [], b""
        if method == "DELETE":
            self._allow(request, "DeleteObject", bucket, key)
            self.store.bucket(bucket)
            self.store.delete(bucket, key)
            return 204, [], b""
        raise S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")

    # -- buckets ---------------------------------------------------------------------------
    async def _bucket(self, request: S3Request, bucket: str, receive: Receive) -> tuple[int, list, bytes]:
        method, query = request.method, request.query
        if "website" in query:
            return self._website(request, bucket, await read_small(receive))
        if method == "PUT":
            self._allow(request, "CreateBucket", bucket)
            await read_small(receive)  # CreateBucketConfiguration: one region here
            self.store.create_bucket(bucket)
            return 200, [("location", f"/{bucket}")], b""
        if method == "HEAD":
            self._allow(request, "ListBucket", bucket)
            self.store.bucket(bucket)
            return 200, [("x-amz-bucket-region", self.store.region)], b""
        if method == "DELETE":
            self._allow(request, "DeleteBucket", bucket)
            self.store.delete_bucket(bucket)
            return 204, [], b""
        if method == "POST" and "delete" in query:
            return self._delete_many(request, bucket, await read_small(receive))
        if method == "GET":
            self._allow(request, "ListBucket", bucket)
            if "location" in query:
                self.store.bucket(bucket)
                region = "" if self.store.region == "us-east-1" else self.store.region
                return 200, [XML], s3xml.document("LocationConstraint", s3xml.escape(region))
            if "uploads" in query:
                return 200, [XML], self._list_uploads(bucket)
            unsupported = set(query) - LIST_PARAMETERS
            if not unsupported:
                return 200, [XML], self._list(bucket, query)
            raise S3Error("NotImplemented", 501, f"The local S3 does not implement ?{sorted(unsupported)[0]}")
        raise S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")

    def _website(self, request: S3Request, bucket: str, body: bytes) -> tuple[int, list, bytes]:
        self._allow(request, f"{request.method.title()}BucketWebsite", bucket)
        current = self.store.bucket(bucket).settings.get("website")
        if request.method == "PUT":
            self.store.set_bucket_setting(bucket, "website", s3xml.website_request(body))
            return 200, [], b""
        if request.method == "DELETE":
            self.store.set_bucket_setting(bucket, "website", None)
            return 204, [], b""
        if current is None:
            raise S3Error(
                "NoSuchWebsiteConfiguration", 404, "The specified bucket does not have a website configuration"
            )
        return 200, [XML], s3xml.website_document(current)

    def _list(self, bucket: str, query: dict[str, str]) -> bytes:
        v2 = query.get("list-type") == "2"
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
        try:
            max_keys = min(int(query.get("max-keys", MAX_KEYS)), MAX_KEYS)
        except ValueError:
            raise S3Error("InvalidArgument", 400, "Provided max-keys not an integer or within integer range") from None
        if max_keys < 0:
            raise S3Error("InvalidArgument", 400, "Argument maxKeys must be an integer between 0 and 2147483647")
        token = query.get("continuation-token")
        if v2:
            after = decode_token(token) if token is not None else query.get("start-after", "")
            rolled = token is not None
        else:
            after = query.get("marker", "")
            rolled = True
        # A token (or v1 marker) that is a common prefix resumes after everything under it.
        skip = after if rolled and delimiter and after.endswith(delimiter) and after.startswith(prefix) else None
        objects, prefixes, truncated, last = self.store.list(bucket, prefix, delimiter, after, max_keys, skip)
        encode = (lambda s: quote(s, safe="/")) if query.get("encoding-type") == "url" else (lambda s: s)
        parts = [element("Name", bucket), element("Prefix", encode(prefix))]
        if delimiter:
            parts.append(element("Delimiter", encode(delimiter)))
        parts += [element("MaxKeys", max_keys), element("IsTruncated", truncated)]
        if query.get("encoding-type") == "url":
            parts.append(element("EncodingType", "url"))
        if v2:
            parts.append(element("KeyCount", len(objects) + len(prefixes)))
            if token is not None:
                parts.append(element("ContinuationToken", token))
            if "start-after" in query:
                parts.append(element("StartAfter", encode(query["start-after"])))
            if truncated and last is not None:
                parts.append(element("NextContinuationToken", encode_token(last)))
        else:
            parts.append(element("Marker", encode(after)))
            if truncated and last is not None:
                parts.append(element("NextMarker", encode(last)))
        parts += [s3xml.object_entry(meta, encode(meta.key), with_owner=not v2) for meta in objects]
        parts.append(s3xml.prefix_entries(encode(p) for p in prefixes))
        return s3xml.document("ListBucketResult", *parts)

    def _delete_many(self, request: S3Request, bucket: str, body: bytes) -> tuple[int, list, bytes]:
        keys, quiet = s3xml.delete_request(body)
        self.store.bucket(bucket)
        parts = []
        for key in keys:
            try:
                self._allow(request, "DeleteObject", bucket, key)
            except S3Error as error:
                parts.append(
                    f"<Error>{element('Key', key)}{element('Code', error.code)}{element('Message', error.message)}</Error>"
                )
                continue
            self.store.delete(bucket, key)
            if not quiet:
                parts.append(f"<Deleted>{element('Key', key)}</Deleted>")
        return 200, [XML], s3xml.document("DeleteResult", *parts)

    def _list_uploads(self, bucket: str) -> bytes:
        entries = [
            "<Upload>"
            + element("Key", document["key"])
            + element("UploadId", upload_id)
            + element("Initiated", s3xml.iso_time(document["initiated"]))
            + element("StorageClass", "STANDARD")
            + "</Upload>"
            for upload_id, document in self.multipart.uploads(bucket)
        ]
        return s3xml.document(
            "ListMultipartUploadsResult", element("Bucket", bucket), element("IsTruncated", False), *entries
        )

    # -- objects ---------------------------------------------------------------------------
    async def _put(self, request: S3Request, bucket: str, key: str, receive: Receive) -> tuple[int, list, bytes]:
        self._allow(request, "PutObject", bucket, key)
        upload = self.store.begin(bucket)
        try:
            await read_into(receive, request, upload)
            await asyncio.to_thread(upload.finish)
            meta = self.store.commit(
                bucket, key, upload, request.headers.get("content-type"), request.metadata(), request.stored_headers()
            )
        except BaseException:
            upload.discard()
            raise
        return 200, [("etag", f'"{meta.etag}"')], b""

    async def _get(self, request: S3Request, bucket: str, key: str, send: Send) -> None:
        self._allow(request, "GetObject" if request.method == "GET" else "HeadObject", bucket, key)
        try:
            meta = self.store.head(bucket, key)
        except S3Error as error:  # without s3:ListBucket, S3 does not say that a key is missing
            self._allow(request, "ListBucket", bucket)
            raise error
        base = [("x-amz-request-id", request.request_id)]
        refused = check_conditions(request, meta)
        if refused == 412:
            raise S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
        if refused == 304:
            await respond(send, 304, [*base, ("etag", f'"{meta.etag}"')], head=True)
            return
        headers = base + object_headers(meta, request.query)
        span = byte_range(request.headers.get("range"), meta.size)
        status, (start, length) = (200, (0, meta.size)) if span is None else (206, span)
        if span is not None:
            headers.append(("content-range", f"bytes {start}-{start + length - 1}/{meta.size}"))
        if request.method == "HEAD":
            await respond(send, status, [*headers, ("content-length", str(length))], head=True)
            return
        await stream_file(send, status, headers, self.store.data_file(bucket, meta), start, length)

    def _copy_source(self, request: S3Request):
        source = unquote(request.headers["x-amz-copy-source"].split("?", 1)[0]).lstrip("/")
        source_bucket, _, source_key = source.partition("/")
        if not source_bucket or not source_key:
            raise S3Error(
                "InvalidArgument", 400, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
            )
        self._allow(request, "GetObject", source_bucket, source_key)
        return source_bucket, self.store.head(source_bucket, source_key)

    def _copy(self, request: S3Request, bucket: str, key: str) -> tuple[int, list, bytes]:
        self._allow(request, "PutObject", bucket, key)
        source_bucket, source = self._copy_source(request)
        replace = request.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE"
        if (source_bucket, source.key) == (bucket, key) and not replace:
            raise S3Error(
                "InvalidRequest",
                400,
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata, storage class, website redirect location or encryption attributes.",
            )
        changes = {}
        if replace:
            changes = {
                "content_type": request.headers.get("content-type", "binary/octet-stream"),
                "metadata": request.metadata(),
                "headers": request.stored_headers(),
            }
        meta = self.store.link(source_bucket, source, bucket, key, **changes)
        result = element("LastModified", s3xml.iso_time(meta.last_modified)) + element("ETag", f'"{meta.etag}"')
        return 200, [XML], s3xml.document("CopyObjectResult", result)

    async def _multipart(self, request: S3Request, bucket: str, key: str, receive: Receive) -> tuple[int, list, bytes]:
        method, query = request.method, request.query
        self._allow(request, "PutObject" if method != "GET" else "ListMultipartUploadParts", bucket, key)
        if method == "POST" and "uploads" in query:
            upload_id = self.multipart.create(
                bucket, key, request.headers.get("content-type"), request.metadata(), request.stored_headers()
            )
            parts = element("Bucket", bucket) + element("Key", key) + element("UploadId", upload_id)
            return 200, [XML], s3xml.document("InitiateMultipartUploadResult", parts)
        upload_id = query["uploadId"]
        if method == "PUT":
            return await self._upload_part(request, bucket, upload_id, receive)
        if method == "POST":
            chosen = s3xml.complete_request(await read_small(receive))
            meta = await asyncio.to_thread(self.multipart.complete, bucket, upload_id, chosen)
            result = (
                element("Location", f"/{bucket}/{quote(key)}")
                + element("Bucket", bucket)
                + element("Key", key)
                + element("ETag", f'"{meta.etag}"')
            )
            return 200, [XML], s3xml.document("CompleteMultipartUploadResult", result)
        if method == "DELETE":
            self.multipart.abort(bucket, upload_id)
            return 204, [], b""
        if method == "GET":
            entries = "".join(
                "<Part>"
                + element("PartNumber", part["number"])
                + element("LastModified", s3xml.iso_time(part["modified"]))
                + element("ETag", f'"{part["etag"]}"')
                + element("Size", part["size"])
                + "</Part>"
                for part in self.multipart.parts(bucket, upload_id)
            )
            head = element("Bucket", bucket) + element("Key", key) + element("UploadId", upload_id)
            return 200, [XML], s3xml.document("ListPartsResult", head, element("IsTruncated", False), entries)
        raise S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")

    async def _upload_part(
        self, request: S3Request, bucket: str, upload_id: str, receive: Receive
    ) -> tuple[int, list, bytes]:
        try:
            number = int(request.query.get("partNumber", ""))
        except ValueError:
            raise S3Error("InvalidArgument", 400, "Part number must be an integer") from None
        upload = self.multipart.begin_part(bucket, upload_id, number)
        try:
            if "x-amz-copy-source" in request.headers:
                source_bucket, source = self._copy_source(request)
                span = byte_range(request.headers.get("x-amz-copy-source-range"), source.size)
                start, length = span or (0, source.size)
                await asyncio.to_thread(upload.copy_from, self.store.data_file(source_bucket, source), start, length)
            else:
                await read_into(receive, request, upload)
            await asyncio.to_thread(upload.finish)
            etag = self.multipart.commit_part(bucket, upload_id, number, upload)
        except BaseException:
            upload.discard()
            raise
        if "x-amz-copy-source" in request.headers:
            result = element("LastModified", s3xml.iso_time(time.time()))
            return 200, [XML], s3xml.document("CopyPartResult", result, element("ETag", f'"{etag}"'))
        return 200, [("etag", f'"{etag}"')], b""


LIST_PARAMETERS = frozenset(
    {
        "list-type",
        "prefix",
        "delimiter",
        "max-keys",
        "continuation-token",
        "start-after",
        "marker",
        "encoding-type",
        "fetch-owner",
    }
)


def encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode("utf-8")).decode("ascii")


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        raise S3Error("InvalidArgument", 400, "The continuation token provided is incorrect") from None
