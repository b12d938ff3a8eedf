"""The one thin wrapper through which every AWS call of the aws target goes.

Why one place: botocore's exceptions are translated here, once, into one-line
messages a user can act on; throttling is retried here; and every call is
counted here (by operation, read or write), so a run can say what it cost.
boto3 is imported only when the first client is built, so importing this
module stays cheap.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..base import StepFailed, TargetError, pause

# Error codes AWS uses for "slow down"; these are retried with backoff.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"})
SERVER_SIDE_CODES = frozenset({"InternalFailure", "InternalServerError", "ServiceUnavailable", "500", "502", "503"})
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Download")
# Services whose calls botocore retries itself, in its standard mode (exponential backoff with jitter,
# also for 500s and SlowDown): S3 writes are content-addressed, so repeating one is always safe.
BOTOCORE_RETRIES = {"s3": 5}

# S3 operations whose IAM action is not simply "s3:<Operation>".
_S3_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "HeadBucket": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "UploadFile": "s3:PutObject",
    "DownloadFile": "s3:GetObject",
    "GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",  # s3control: the account's setting
}
_SERVICE_PREFIX = {"sagemaker": "sagemaker", "s3": "s3", "s3control": "s3", "sts": "sts", "iam": "iam"}
_DENIED_ACTION = re.compile(r"not authorized to perform: ([a-z0-9-]+:[A-Za-z0-9]+)")
_FIELD = re.compile(r"at '([^']+)'")
_NOT_FOUND = re.compile(r"(could not find|does not exist|not found)", re.IGNORECASE)


def is_read(operation: str) -> bool:
    """Read calls change nothing; a no-op re-run should make only these."""
    return operation.startswith(READ_PREFIXES)


def retryable(failure: Exception, operation: str) -> bool:
    """Throttling always; a dropped connection or AWS-side 5xx only for reads, which are safe to repeat.

    (A long training wait polls for hours; one network blip must not fail the step.)
    """
    if not isinstance(failure, AwsCallFailed):
        return False
    if failure.code == "Throttled":
        return True
    return is_read(operation) and (failure.code == "Connection" or failure.code in SERVER_SIDE_CODES)


def iam_action(service: str, operation: str) -> str:
    """The IAM action a denied call needs, e.g. sagemaker:CreateTrainingJob."""
    if service in ("s3", "s3control") and operation in _S3_ACTIONS:
        return _S3_ACTIONS[operation]
    return f"{_SERVICE_PREFIX.get(service, service)}:{operation}"


class AwsCallFailed(StepFailed):
    """An AWS call failed; `code` is AWS's error code, for callers that expect some."""

    def __init__(self, message: str, code: str, detail: str = ""):
        super().__init__(message, detail)
        self.code = code


class AwsClient:
    """boto3 clients for one region and profile, with translated errors and call counts."""

    def __init__(
        self,
        region: str,
        profile: str | None = None,
        *,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = pause,
        session: Any = None,
    ):
        """`session`: the boto3 Session to build clients from (default: one for `region` and `profile`)."""
        self.region = region
        self.profile = profile
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.calls: Counter[tuple[str, str]] = Counter()  # (operation, "read"|"write") -> count
        self._count_lock = threading.Lock()
        self._scope = threading.local()  # the counter of the step this thread runs, if any
        self._session: Any = session
        self._clients: dict[str, Any] = {}
        self._identity: dict[str, Any] | None = None

    @classmethod
    def for_pipeline(cls, pipeline: Any) -> AwsClient:
        return cls(pipeline.region, pipeline.aws.profile)

    # ------------------------------------------------------------------ plumbing

    def _boto_client(self, service: str) -> Any:
        if service not in self._clients:
            try:
                import boto3
                from botocore.config import Config
                from botocore.exceptions import ProfileNotFound
            except ImportError as exc:
                raise TargetError(
                    "The aws target needs boto3, which is not installed.",
                    hint="pip install 'orchestrator[aws]'",
                ) from exc
            try:
                if self._session is None:
                    self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
                # Retries are ours (counted, and only for throttling), so botocore makes one attempt,
                # except for the services it retries itself (BOTOCORE_RETRIES).
                attempts = BOTOCORE_RETRIES.get(service, 1)
                config = Config(
                    retries={"total_max_attempts": attempts, "mode": "standard"}, user_agent_extra="orchestrator"
                )
                self._clients[service] = self._session.client(service, config=config)
            except ProfileNotFound as exc:
                raise TargetError(
                    f"AWS profile {self.profile!r} (aws.profile in the spec) is not configured on this machine.",
                    hint="Check the name in ~/.aws/config, or remove aws.profile to use the environment.",
                ) from exc
        return self._clients[service]

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Make one real call; the only line that talks to boto3. Fakes override this."""
        method = getattr(self._boto_client(service), _snake(operation))
        return method(**params)

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Call `service.operation` (CamelCase name), retrying throttling; raise translated errors."""
        attempt = 0
        max_attempts = 1 if service in BOTOCORE_RETRIES else self.max_attempts  # botocore retried already
        while True:
            attempt += 1
            self._count(operation)
            try:
                return self._invoke(service, operation, params)
            except (StepFailed, TargetError):
                raise
            except Exception as exc:  # translated once, here, at the boundary
                failure = translate(exc, service, operation, self)
                if failure is None:
                    raise
                if retryable(failure, operation) and attempt < max_attempts:
                    self.sleep(self.backoff_s * 2 ** (attempt - 1))
                    continue
                raise failure from exc

    def _count(self, operation: str) -> None:
        kind = "read" if is_read(operation) else "write"
        with self._count_lock:  # steps run in threads and share this client
            self.calls[(operation, kind)] += 1
        scope = getattr(self._scope, "counter", None)
        if scope is not None:
            scope[kind] += 1

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        """The calls this thread makes inside the block ("read"/"write"): one step's own, even
        while other steps call through the same client at the same time."""
        mine: Counter[str] = Counter()
        outer = getattr(self._scope, "counter", None)
        self._scope.counter = mine
        try:
            yield mine
        finally:
            self._scope.counter = outer

    def counts(self) -> dict[str, int]:
        """Totals for reports: reads, writes and all calls."""
        reads = sum(n for (_, kind), n in self.calls.items() if kind == "read")
        writes = sum(n for (_, kind), n in self.calls.items() if kind == "write")
        return {"read": reads, "write": writes, "total": reads + writes}

    def close(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if close:
                close()
        self._clients.clear()

    # ------------------------------------------------------------------ typed calls

    def caller_identity(self) -> dict[str, Any]:
        """Whose credentials these are; asked once per run (they do not change within one)."""
        if self._identity is None:
            self._identity = self.call("sts", "GetCallerIdentity")
        return self._identity

    def get_role(self, name: str) -> dict[str, Any]:
        return self.call("iam", "GetRole", RoleName=name)["Role"]

    def head_bucket(self, bucket: str) -> dict[str, Any]:
        """The bucket's answer, with its `BucketRegion`."""
        return self.call("s3", "HeadBucket", Bucket=bucket)

    def account_public_access_block(self, account: str) -> dict[str, bool] | None:
        """The account's Block Public Access settings, or None when it has none."""
        try:
            answer = self.call("s3control", "GetPublicAccessBlock", AccountId=account)
        except AwsCallFailed as exc:
            if exc.code == "NoSuchPublicAccessBlockConfiguration":
                return None
            raise
        return answer.get("PublicAccessBlockConfiguration", {})

    def list_objects(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        """Every object under a prefix, following continuation tokens."""
        objects: list[dict[str, Any]] = []
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = self.call("s3", "ListObjectsV2", **params)
            objects.extend(page.get("Contents", []))
            if not page.get("IsTruncated"):
                return objects
            params["ContinuationToken"] = page["NextContinuationToken"]

    def get_object(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
        try:
            return self.call("s3", "GetObject", Bucket=bucket, Key=key)["Body"].read()
        except AwsCallFailed as exc:
            if exc.code in ("NoSuchKey", "404"):
                return None
            raise

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self.call("s3", "PutObject", Bucket=bucket, Key=key, Body=body)

    def upload_file(self, path: str, bucket: str, key: str) -> None:
        """boto3's managed transfer (multipart for big files); counted as one write."""
        self.call("s3", "UploadFile", Filename=path, Bucket=bucket, Key=key)

    def download_file(self, bucket: str, key: str, path: str) -> None:
        """boto3's managed transfer (ranged GETs for big files); counted as one read."""
        self.call("s3", "DownloadFile", Bucket=bucket, Key=key, Filename=path)

    def describe_training_job(self, name: str) -> dict[str, Any] | None:
        return self._describe_or_none("DescribeTrainingJob", TrainingJobName=name)

    def list_training_jobs(self, name_contains: str) -> list[dict[str, Any]]:
        page = self.call("sagemaker", "ListTrainingJobs", NameContains=name_contains, MaxResults=100)
        return page.get("TrainingJobSummaries", [])

    def create_training_job(self, request: dict[str, Any]) -> str:
        return self.call("sagemaker", "CreateTrainingJob", **request)["TrainingJobArn"]

    def stop_training_job(self, name: str) -> None:
        self.call("sagemaker", "StopTrainingJob", TrainingJobName=name)

    def describe_model(self, name: str) -> dict[str, Any] | None:
        return self._describe_or_none("DescribeModel", ModelName=name)

    def create_model(self, request: dict[str, Any]) -> str:
        return self.call("sagemaker", "CreateModel", **request)["ModelArn"]

    def describe_endpoint_config(self, name: str) -> dict[str, Any] | None:
        return self._describe_or_none("DescribeEndpointConfig", EndpointConfigName=name)

    def create_endpoint_config(self, request: dict[str, Any]) -> str:
        return self.call("sagemaker", "CreateEndpointConfig", **request)["EndpointConfigArn"]

    def describe_endpoint(self, name: str) -> dict[str, Any] | None:
        return self._describe_or_none("DescribeEndpoint", EndpointName=name)

    def create_endpoint(self, name: str, config: str, tags: list[dict[str, str]]) -> str:
        return self.call("sagemaker", "CreateEndpoint", EndpointName=name, EndpointConfigName=config, Tags=tags)[
            "EndpointArn"
        ]

    def update_endpoint(self, name: str, config: str) -> None:
        self.call("sagemaker", "UpdateEndpoint", EndpointName=name, EndpointConfigName=config)

    def delete_endpoint(self, name: str) -> None:
        self.call("sagemaker", "DeleteEndpoint", EndpointName=name)

    def list_endpoint_configs(self, name_contains: str) -> list[dict[str, Any]]:
        return self._list_all("ListEndpointConfigs", "EndpointConfigs", NameContains=name_contains)

    def delete_endpoint_config(self, name: str) -> None:
        self.call("sagemaker", "DeleteEndpointConfig", EndpointConfigName=name)

    def list_models(self, name_contains: str) -> list[dict[str, Any]]:
        return self._list_all("ListModels", "Models", NameContains=name_contains)

    def delete_model(self, name: str) -> None:
        self.call("sagemaker", "DeleteModel", ModelName=name)

    def tags(self, arn: str) -> dict[str, str]:
        page = self.call("sagemaker", "ListTags", ResourceArn=arn)
        return {t["Key"]: t["Value"] for t in page.get("Tags", [])}

    def _describe_or_none(self, operation: str, **params: Any) -> dict[str, Any] | None:
        """SageMaker answers "not found" with a ValidationException; that is None here."""
        try:
            return self.call("sagemaker", operation, **params)
        except AwsCallFailed as exc:
            if exc.code in ("ValidationException", "ResourceNotFound") and _NOT_FOUND.search(exc.detail or str(exc)):
                return None
            raise

    def _list_all(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.call("sagemaker", operation, MaxResults=100, **params)
            items.extend(page.get(key, []))
            if not page.get("NextToken"):
                return items
            params["NextToken"] = page["NextToken"]


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


_NO_CREDENTIALS_HINT = (
    "Set AWS_PROFILE (or aws.profile in the spec), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`."
)


def _one_line(text: str, limit: int = 300) -> str:
    """AWS messages are one line; an HTML error page from a proxy is not, so it is cut."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def translate(exc: BaseException, service: str, operation: str, client: AwsClient) -> Exception | None:
    """One botocore exception -> one line the user can act on (None: not ours to translate)."""
    from botocore import exceptions as bx

    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError)):
        return TargetError("No AWS credentials found for the aws target.", hint=_NO_CREDENTIALS_HINT)
    if isinstance(exc, bx.ProfileNotFound):
        return TargetError(
            f"AWS profile {client.profile!r} (aws.profile in the spec) is not configured on this machine.",
            hint="Check the name in ~/.aws/config, or remove aws.profile to use the environment.",
        )
    if isinstance(exc, bx.ParamValidationError):
        field = re.search(r"parameter (?:input\.)?(\S+?),?\s", str(exc) + " ")
        name = field.group(1) if field else "?"
        return AwsCallFailed(
            f"{operation} was given an invalid value for {name}.", "ValidationException", str(exc).strip()
        )
    if isinstance(
        exc, (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ReadTimeoutError, bx.ConnectTimeoutError)
    ):
        return AwsCallFailed(f"Could not reach AWS {service} in {client.region} ({operation}).", "Connection", str(exc))
    # boto3's managed upload hides the ClientError inside S3UploadFailedError.
    cause = (exc.__cause__ or exc.__context__) if type(exc).__name__ == "S3UploadFailedError" else exc
    if not isinstance(cause, bx.ClientError):
        if type(exc).__name__ == "S3UploadFailedError":
            return AwsCallFailed(f"Upload to S3 failed: {exc}", "UploadFailed", str(exc))
        return None
    exc = cause

    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = _one_line(str(error.get("Message", "")))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in THROTTLING_CODES or status == 429:
        return AwsCallFailed(
            f"AWS kept throttling {operation} after {client.max_attempts} attempts; try again in a few minutes.",
            "Throttled",
            message,
        )
    if code in ACCESS_DENIED_CODES:
        # AWS often names the action it denied (e.g. iam:PassRole behind CreateTrainingJob); prefer that.
        named = _DENIED_ACTION.search(message)
        action = named.group(1) if named else iam_action(service, operation)
        return AwsCallFailed(
            f"Access denied: the AWS identity in use may not call {action}.",
            code,
            f"Allow {action} in the policy of the user or role that runs orchestrator. {message}".strip(),
        )
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException"):
        return TargetError(
            f"The AWS credentials in use were rejected ({code}).",
            hint="Refresh them (e.g. `aws sso login`) or check AWS_PROFILE.",
        )
    if code == "ResourceLimitExceeded":
        return AwsCallFailed(
            f"SageMaker quota reached for {operation}: {message}",
            code,
            "Request an increase in Service Quotas, use another instance type, or delete unused resources.",
        )
    if code == "ValidationException":
        field = _FIELD.search(message)
        if field:
            return AwsCallFailed(f"{operation} rejected the value of {field.group(1)}: {message}", code, message)
        return AwsCallFailed(f"{operation} rejected the request: {message}", code, message)
    return AwsCallFailed(f"{operation} failed ({code}): {message or 'no message'}", code, message)
