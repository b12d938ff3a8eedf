"""The strict layer: every request the aws target sends through boto3 is held against AWS's rules.

Why botocore's `provide-client-params` event: it sees each call's parameters as the
code under test gave them, per operation, for every client built from the session
(including the calls boto3's managed uploads make), before anything is sent. The
session is the one the target's AwsClient is given (`aws_support.new_client`). A
request AWS would refuse gets AWS's answer, a ValidationException, so the target's
own error handling runs as it would; and the test fails afterwards unless it said
it expects that refusal (`STRICT.expect(...)`).

Stateful rules ask the moto server (through plain clients, outside the layer) what exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rules import Request, refusals


class MotoWorld:
    """What exists on the moto server, read with plain clients (their calls are not held to the rules)."""

    def __init__(self, region: str):
        import boto3

        self._session = boto3.Session(region_name=region)
        self._clients: dict[str, Any] = {}

    def _client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]

    def endpoint(self, name: str):
        try:
            return self._client("sagemaker").describe_endpoint(EndpointName=name)
        except Exception:
            return None

    def endpoint_config(self, name: str):
        try:
            return self._client("sagemaker").describe_endpoint_config(EndpointConfigName=name)
        except Exception:
            return None

    def object_bytes(self, bucket: str, key: str):
        try:
            return self._client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception:
            return None

    def bucket_region(self, bucket: str):
        try:
            location = self._client("s3").get_bucket_location(Bucket=bucket)["LocationConstraint"]
        except Exception:
            return None
        return location or "us-east-1"

    def blocks_public_policy(self, bucket: str):
        return None  # the target writes no bucket policy; the Pulumi program's are checked under its mocks


@dataclass
class StrictAws:
    """Records what the target asks of AWS and what AWS would have refused."""

    requests: list[Request] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)  # rule names a test provokes on purpose
    world: Any = None

    def session(self, region: str):
        """A boto3 session whose clients send nothing AWS would refuse without the test knowing."""
        import boto3

        session = boto3.Session(region_name=region)
        session.events.register("provide-client-params", self._on_request)
        return session

    def expect(self, rule: str) -> None:
        self.expected.add(rule)

    def unexpected(self) -> list[str]:
        return [r for r in self.refused if not any(r.endswith(f"[{name}]") for name in self.expected)]

    def operations(self) -> list[tuple[str, str]]:
        return sorted({(r.service, r.operation) for r in self.requests})

    def _on_request(self, params: dict[str, Any], model, context: dict[str, Any], **_: Any) -> None:
        from botocore.exceptions import ClientError

        request = Request(model.service_model.service_name, model.name, dict(params), context["client_region"])
        self.requests.append(request)
        if self.world is None:
            self.world = MotoWorld(request.region)
        found = refusals(request, self.world)
        if found:
            self.refused += found
            error = {"Code": "ValidationException", "Message": "; ".join(found)}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, model.name)


STRICT = StrictAws()  # the current test's layer; `tests/aws/conftest.py` gives each test a fresh one


def reset() -> StrictAws:
    global STRICT
    STRICT = StrictAws()
    return STRICT
