"""What the pulumi-aws provider does with a resource that Pulumi's mocks do not: name it, and send it to AWS.

Autonaming as the provider does it: a resource without an explicit name gets the
logical name plus "-" and 7 random characters, and the provider fails when that
is longer than the AWS limit (pulumi-aws' `NewUniqueHex(name+"-", 7, maxlen)`).
Then each resource becomes the AWS request the provider would make for it, which
is held against the table of AWS's rules (`tests/aws/rules`) like the target's own
boto3 calls: what AWS would refuse is recorded, so a program that passes under
these mocks would also pass the provider and AWS.
"""

from __future__ import annotations

import io
import json
import os
import random
import string
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi

try:
    from ..aws.rules import Request, refusals
except ImportError:  # in program_runner.py's process, where tests/aws is on sys.path
    from rules import Request, refusals

# type -> (the property autonaming fills, the longest name AWS takes, lower-cased?)
AUTONAMED: dict[str, tuple[str, int, bool]] = {
    "aws:iam/role:Role": ("name", 64, False),
    "aws:iam/rolePolicy:RolePolicy": ("name", 128, False),
    "aws:lambda/function:Function": ("name", 64, False),
    "aws:lambda/permission:Permission": ("statementId", 100, False),
    "aws:s3/bucket:Bucket": ("bucket", 63, True),
    "aws:apigateway/apiKey:ApiKey": ("name", 1024, False),
    "aws:apigateway/usagePlan:UsagePlan": ("name", 1024, False),
}
RANDOM_CHARS = 7


class ProviderError(Exception):
    """What the provider reports for a resource it cannot create (the program's `up` fails)."""


def autoname(kind: str, logical: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs with the name the provider would give; ProviderError when that name cannot fit.

    The random part is seeded by the resource, as a real stack keeps a name once given: two
    runs of one program register the same names.
    """
    if kind not in AUTONAMED:
        return inputs
    prop, limit, lower = AUTONAMED[kind]
    if inputs.get(prop):
        return inputs
    prefix = (logical.lower() if lower else logical) + "-"
    if len(prefix) + RANDOM_CHARS > limit:
        raise ProviderError(
            f"{kind} {logical}: name {prefix!r} plus {RANDOM_CHARS} random chars is longer than maximum length {limit}"
        )
    alphabet = string.ascii_lowercase + string.digits
    rng = random.Random(f"{kind}:{logical}")
    return {**inputs, prop: prefix + "".join(rng.choice(alphabet) for _ in range(RANDOM_CHARS))}


def _archive_bytes(archive: Any) -> bytes | None:
    """The zip Pulumi would upload for a FileArchive (a zip file as it is; a folder zipped)."""
    path = Path(getattr(archive, "path", "") or "")
    if path.is_file():
        return path.read_bytes()
    if path.is_dir():
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                zipped.write(file, file.relative_to(path).as_posix())
        return out.getvalue()
    return None


def _unzipped(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def _tags(inputs: dict[str, Any]) -> list[dict[str, str]] | None:
    tags = inputs.get("tags")
    return [{"Key": k, "Value": v} for k, v in tags.items()] if tags else None


class FakeAccount:
    """The account the program deploys into: what it registered so far, and account-wide settings."""

    def __init__(self, region: str):
        self.region = region
        self.states: dict[str, dict[str, Any]] = {}  # resource id -> state
        self.objects: dict[tuple[str, str], Any] = {}  # (bucket, key) -> the BucketObjectv2's source
        self.public_access: dict[str, dict[str, Any]] = {}  # bucket -> its BucketPublicAccessBlock inputs
        # Account-level Block Public Access, as `TEST_ACCOUNT_BLOCKS_PUBLIC_POLICY=true` sets it.
        self.account_blocks_public_policy = os.environ.get("TEST_ACCOUNT_BLOCKS_PUBLIC_POLICY") == "true"
        self.refused: list[str] = []

    # -- World, for the stateful rules
    def endpoint(self, name):
        return None

    def endpoint_config(self, name):
        return None

    def object_bytes(self, bucket, key):
        return None

    def bucket_region(self, bucket):
        return self.region

    def blocks_public_policy(self, bucket: str) -> bool:
        block = self.public_access.get(bucket)
        bucket_blocks = block is None or bool(block.get("blockPublicPolicy", True))  # new buckets block by default
        return self.account_blocks_public_policy or bucket_blocks

    # -- what the provider sends
    def name_of(self, resource_id: Any) -> Any:
        state = self.states.get(resource_id) if isinstance(resource_id, str) else None
        return state.get("name", resource_id) if state else resource_id

    def requests(self, kind: str, inputs: dict[str, Any]) -> list[Request]:
        build = REQUESTS.get(kind)
        return (
            [Request(service, operation, params, self.region) for service, operation, params in build(self, inputs)]
            if build
            else []
        )

    def hold(self, kind: str, logical: str, inputs: dict[str, Any]) -> None:
        """Check what the provider would send for this resource; remember what AWS would refuse."""
        if kind == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
            self.public_access[inputs["bucket"]] = inputs
        if kind == "aws:s3/bucketObjectv2:BucketObjectv2":
            self.objects[(inputs["bucket"], inputs["key"])] = inputs.get("source")
        for request in self.requests(kind, inputs):
            self.refused += [f"{kind} {logical}: {message}" for message in refusals(request, self)]


Build = Callable[[FakeAccount, dict[str, Any]], list[tuple[str, str, dict[str, Any]]]]


def _function(account: FakeAccount, i: dict[str, Any]):
    code: dict[str, Any] = {}
    if i.get("code") is not None:
        data = _archive_bytes(i["code"])
        code = {"ZipFile": data} if data is not None else {}
    elif i.get("s3Bucket"):
        code = {"S3Bucket": i["s3Bucket"], "S3Key": i.get("s3Key")}
        source = account.objects.get((i["s3Bucket"], i.get("s3Key")))
        data = _archive_bytes(source) if source is not None else None
        if data is None and source is not None and Path(getattr(source, "path", "")).is_file():
            data = Path(source.path).read_bytes()
        if data is not None:
            code["UnzippedSize"] = _unzipped(data)
    params = {
        "FunctionName": i.get("name"),
        "Runtime": i.get("runtime"),
        "Role": i.get("role"),
        "Handler": i.get("handler"),
        "Code": code,
        "Timeout": i.get("timeout"),
        "MemorySize": i.get("memorySize"),
        "Environment": {"Variables": (i.get("environment") or {}).get("variables") or {}},
        "Tags": i.get("tags"),
    }
    return [("lambda", "CreateFunction", {k: v for k, v in params.items() if v is not None})]


def _log_group(account, i):
    out = [("logs", "CreateLogGroup", {"logGroupName": i.get("name"), "tags": i.get("tags")})]
    if i.get("retentionInDays") is not None:
        out.append(
            ("logs", "PutRetentionPolicy", {"logGroupName": i.get("name"), "retentionInDays": i["retentionInDays"]})
        )
    return out


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _imported_integrations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """What importing the document creates per operation, as the PutIntegration it amounts to: AWS
    holds an imported integration to the same rules (timeout range, the SageMaker path, credentials)."""
    out = []
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items():
            integration = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
            if not integration:
                continue
            params = {
                "restApiId": "imported",
                "resourceId": path,
                "httpMethod": "ANY" if method == "x-amazon-apigateway-any-method" else method.upper(),
                "type": str(integration.get("type", "")).upper(),
                "integrationHttpMethod": integration.get("httpMethod"),
                "uri": integration.get("uri"),
                "credentials": integration.get("credentials"),
                "requestParameters": integration.get("requestParameters"),
                "requestTemplates": integration.get("requestTemplates"),
                "passthroughBehavior": str(integration.get("passthroughBehavior", "")).upper() or None,
                "timeoutInMillis": integration.get("timeoutInMillis"),
            }
            out.append(("apigateway", "PutIntegration", _drop_none(params)))
    return out


def _rest_api(account: FakeAccount, i: dict[str, Any]):
    """CreateRestApi, then (with a body) PutRestApi importing the document in the given mode."""
    types = (i.get("endpointConfiguration") or {}).get("types")
    out = [
        (
            "apigateway",
            "CreateRestApi",
            _drop_none(
                {
                    "name": i.get("name"),
                    "description": i.get("description"),
                    "apiKeySource": i.get("apiKeySource"),
                    "endpointConfiguration": {"types": [types] if isinstance(types, str) else types} if types else None,
                    "tags": i.get("tags"),
                }
            ),
        )
    ]
    body = i.get("body")
    if body:
        out.append(
            (
                "apigateway",
                "PutRestApi",
                _drop_none(
                    {
                        "restApiId": "imported",
                        "mode": i.get("putRestApiMode"),
                        "failOnWarnings": i.get("failOnWarnings"),
                        "body": body.encode(),
                    }
                ),
            )
        )
        out += _imported_integrations(json.loads(body))
    return out


REQUESTS: dict[str, Build] = {
    "aws:iam/role:Role": lambda a, i: [
        (
            "iam",
            "CreateRole",
            _drop_none(
                {
                    "RoleName": i.get("name"),
                    "AssumeRolePolicyDocument": i.get("assumeRolePolicy"),
                    "Description": i.get("description"),
                    "Tags": _tags(i),
                }
            ),
        )
    ],
    "aws:iam/rolePolicy:RolePolicy": lambda a, i: [
        (
            "iam",
            "PutRolePolicy",
            {"RoleName": a.name_of(i.get("role")), "PolicyName": i.get("name"), "PolicyDocument": i.get("policy")},
        )
    ],
    "aws:lambda/function:Function": _function,
    "aws:lambda/permission:Permission": lambda a, i: [
        (
            "lambda",
            "AddPermission",
            _drop_none(
                {
                    "FunctionName": i.get("function"),
                    "StatementId": i.get("statementId"),
                    "Action": i.get("action"),
                    "Principal": i.get("principal"),
                    "SourceArn": i.get("sourceArn"),
                }
            ),
        )
    ],
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/deployment:Deployment": lambda a, i: [
        (
            "apigateway",
            "CreateDeployment",
            _drop_none({"restApiId": i.get("restApi"), "description": i.get("description")}),
        )
    ],
    "aws:apigateway/stage:Stage": lambda a, i: [
        (
            "apigateway",
            "CreateStage",
            _drop_none(
                {
                    "restApiId": i.get("restApi"),
                    "stageName": i.get("stageName"),
                    "deploymentId": i.get("deployment"),
                    "tags": i.get("tags"),
                }
            ),
        )
    ],
    "aws:apigateway/apiKey:ApiKey": lambda a, i: [
        (
            "apigateway",
            "CreateApiKey",
            _drop_none(
                {
                    "name": i.get("name"),
                    "description": i.get("description"),
                    "enabled": i.get("enabled"),
                    "tags": i.get("tags"),
                }
            ),
        )
    ],
    "aws:apigateway/usagePlan:UsagePlan": lambda a, i: [
        ("apigateway", "CreateUsagePlan", _drop_none({"name": i.get("name"), "tags": i.get("tags")}))
    ],
    "aws:s3/bucket:Bucket": lambda a, i: [("s3", "CreateBucket", {"Bucket": i.get("bucket")})],
    "aws:s3/bucketPolicy:BucketPolicy": lambda a, i: [
        ("s3", "PutBucketPolicy", {"Bucket": i.get("bucket"), "Policy": i.get("policy")})
    ],
    "aws:s3/bucketObjectv2:BucketObjectv2": lambda a, i: [
        (
            "s3",
            "PutObject",
            _drop_none(
                {
                    "Bucket": i.get("bucket"),
                    "Key": i.get("key"),
                    "ContentType": i.get("contentType"),
                    "CacheControl": i.get("cacheControl"),
                }
            ),
        )
    ],
}


def is_archive(value: Any) -> bool:
    return isinstance(value, (pulumi.FileArchive, pulumi.FileAsset))
