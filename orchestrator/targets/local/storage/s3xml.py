"""S3's XML: the documents the REST API answers with, its errors, and the bodies it reads."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from email.utils import formatdate
from xml.sax.saxutils import escape

from .store import ObjectMeta, S3Error

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def iso_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"


def http_date(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


def element(name: str, value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"<{name}>{escape(text)}</{name}>"


def document(root: str, *parts: str) -> bytes:
    return (HEADER + f'<{root} xmlns="{NAMESPACE}">' + "".join(parts) + f"</{root}>").encode("utf-8")


def error_document(error: S3Error, request_id: str) -> bytes:
    fields = "".join(element(k, v) for k, v in error.fields.items())
    body = f"<Error>{element('Code', error.code)}{element('Message', error.message)}{fields}"
    return (HEADER + body + element("RequestId", request_id) + "</Error>").encode("utf-8")


def object_entry(meta: ObjectMeta, key: str, with_owner: bool = False) -> str:
    """One <Contents> of a listing; `key` as the listing encodes it."""
    owner = "<Owner><ID>local</ID><DisplayName>local</DisplayName></Owner>" if with_owner else ""
    return (
        "<Contents>"
        + element("Key", key)
        + element("LastModified", iso_time(meta.last_modified))
        + element("ETag", f'"{meta.etag}"')
        + element("Size", meta.size)
        + owner
        + element("StorageClass", "STANDARD")
        + "</Contents>"
    )


def prefix_entries(prefixes: Iterable[str]) -> str:
    return "".join(f"<CommonPrefixes>{element('Prefix', p)}</CommonPrefixes>" for p in prefixes)


def buckets_document(buckets: Iterable[tuple[str, float]]) -> bytes:
    entries = "".join(
        f"<Bucket>{element('Name', name)}{element('CreationDate', iso_time(created))}</Bucket>"
        for name, created in buckets
    )
    owner = "<Owner><ID>local</ID><DisplayName>local</DisplayName></Owner>"
    return document("ListAllMyBucketsResult", owner, f"<Buckets>{entries}</Buckets>")


# -- request bodies -------------------------------------------------------------------------


def parse(body: bytes) -> ET.Element:
    """An XML request body with namespaces dropped from the tags; MalformedXML if it is not XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate") from exc
    for node in root.iter():
        if "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    return root


def text(node: ET.Element, path: str, default: str = "") -> str:
    found = node.find(path)
    return found.text or default if found is not None else default


def delete_request(body: bytes) -> tuple[list[str], bool]:
    """DeleteObjects: the keys and whether the answer is quiet."""
    root = parse(body)
    keys = [text(item, "Key") for item in root.findall("Object")]
    if not keys or len(keys) > 1000:
        raise S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate")
    return keys, text(root, "Quiet").lower() == "true"


def complete_request(body: bytes) -> list[tuple[int, str]]:
    """CompleteMultipartUpload: (part number, ETag) in the order given."""
    root = parse(body)
    try:
        return [(int(text(part, "PartNumber")), text(part, "ETag")) for part in root.findall("Part")]
    except ValueError as exc:
        raise S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate") from exc


def website_request(body: bytes) -> dict[str, str]:
    root = parse(body)
    config = {"index": text(root, "IndexDocument/Suffix"), "error": text(root, "ErrorDocument/Key")}
    if not config["index"]:
        raise S3Error(
            "InvalidArgument",
            400,
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
        )
    return config


def website_document(config: dict[str, str]) -> bytes:
    parts = [f"<IndexDocument>{element('Suffix', config['index'])}</IndexDocument>"]
    if config.get("error"):
        parts.append(f"<ErrorDocument>{element('Key', config['error'])}</ErrorDocument>")
    return document("WebsiteConfiguration", *parts)
