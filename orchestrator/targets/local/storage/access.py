"""Who may do what in the local S3: a Lambda's own credentials carry its `s3_read` grant.

Each Lambda function gets credentials of its own, as its execution role would give it;
with them it may read exactly the objects (or prefixes ending in `/`) its route's
`s3_read` names, and everything else is AccessDenied, as IAM would answer. Without
s3:ListBucket, S3 answers a missing granted key with AccessDenied too, not NoSuchKey.
Any other caller (training jobs, endpoints, the orchestrator) has the whole store, as
the pipeline's own role does. Callers are told apart by their access key id; signatures
are not verified (everything here runs on this machine, as one user).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from .layout import split_s3_uri
from .store import S3Error

READ_ACTIONS = frozenset({"GetObject", "HeadObject"})
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_V2 = re.compile(r"^AWS ([^:\s]+):")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


@dataclass(frozen=True)
class ReadGrant:
    """s3:GetObject on these objects: s3://bucket/key exactly, or s3://bucket/prefix/ and below."""

    name: str  # whose grant (a function's name), for the error message
    uris: tuple[str, ...]

    def allows(self, bucket: str, key: str) -> bool:
        for uri in self.uris:
            granted_bucket, granted = split_s3_uri(uri)
            if granted_bucket != bucket:
                continue
            if granted == key or ((granted.endswith("/") or not granted) and key.startswith(granted)):
                return True
        return False


def access_key_of(authorization: str | None, query_string: str) -> str | None:
    """The access key id a request was signed with (header or presigned query), if any."""
    if authorization:
        found = _CREDENTIAL.search(authorization) or _V2.match(authorization)
        if found:
            return found.group(1)
    if "X-Amz-Credential" in query_string or "AWSAccessKeyId" in query_string:
        query = parse_qs(query_string)
        credential = (query.get("X-Amz-Credential") or [""])[0]
        return credential.split("/", 1)[0] or (query.get("AWSAccessKeyId") or [None])[0]
    return None


class Access:
    def __init__(self) -> None:
        self.grants: dict[str, ReadGrant] = {}

    def issue(self, name: str, s3_read: tuple[str, ...]) -> Credentials:
        """New credentials for a function that may read only `s3_read`."""
        credentials = Credentials(
            access_key_id="ASIA" + secrets.token_hex(8).upper(),
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(48),
        )
        self.grants[credentials.access_key_id] = ReadGrant(name, tuple(s3_read))
        return credentials

    def revoke(self, credentials: Credentials) -> None:
        self.grants.pop(credentials.access_key_id, None)

    def check(self, access_key: str | None, action: str, bucket: str, key: str | None) -> None:
        grant = self.grants.get(access_key or "")
        if grant is None:
            return
        if action in READ_ACTIONS and key is not None and grant.allows(bucket, key):
            return
        resource = f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"
        raise S3Error(
            "AccessDenied",
            403,
            f"User: arn:aws:sts::123456789012:assumed-role/{grant.name}-role/{grant.name} is not authorized "
            f'to perform: s3:{"GetObject" if action in READ_ACTIONS else action} on resource: "{resource}" '
            "because no identity-based policy allows the action",
        )
