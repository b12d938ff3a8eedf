"""Rules AWS documents and enforces that botocore's models do not encode, each with its source.

A rule looks at one request (service, operation, params, region) and, for the few
that depend on what already exists, at the world the request lands in (the moto
server for the target's calls, the resources a Pulumi program registered for the
program's). It returns sentences saying what AWS would refuse; none means accepted.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Request:
    service: str
    operation: str
    params: dict[str, Any]
    region: str


class World(Protocol):
    """What stateful rules may ask about the account a request lands in; None: unknown here."""

    def endpoint(self, name: str) -> dict[str, Any] | None: ...
    def endpoint_config(self, name: str) -> dict[str, Any] | None: ...
    def object_bytes(self, bucket: str, key: str) -> bytes | None: ...
    def bucket_region(self, bucket: str) -> str | None: ...
    def blocks_public_policy(self, bucket: str) -> bool | None: ...


Check = Callable[[Request, World], Iterator[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    operations: frozenset[tuple[str, str]]  # (service, operation) it applies to; empty: every request
    check: Check
    source: str


RULES: list[Rule] = []


def rule(name: str, operations: list[tuple[str, str]], source: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(name, frozenset(operations), check, source))
        return check

    return register


def partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


# ---------------------------------------------------------------------------------- every service


@rule(
    "arn-partition",
    [],
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html (partition: aws, aws-cn, aws-us-gov)",
)
def arn_partition(request: Request, world: World) -> Iterator[str]:
    """An ARN of another partition names nothing in this region's."""
    wanted = partition(request.region)
    for path, value in _strings(request.params):
        for arn in re.findall(r"\barn:([a-z-]*):", value):
            if arn != wanted:
                yield f"{request.operation}: {path} names partition {arn!r}; region {request.region} is in {wanted!r}"


@rule(
    "reserved-tag-prefix",
    [],
    "https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html (the aws: prefix is reserved)",
)
def reserved_tags(request: Request, world: World) -> Iterator[str]:
    tags = request.params.get("Tags") or request.params.get("tags")
    keys = [t.get("Key", "") for t in tags] if isinstance(tags, list) else list(tags or {})
    for key in keys:
        if key.lower().startswith("aws:"):
            yield f"{request.operation}: tag key {key!r} uses the reserved prefix aws:"


# ---------------------------------------------------------------------------------- SageMaker

# First-party algorithm repositories (sagemaker.core.image_uris' config files name them).
ALGORITHM_REPOSITORIES = frozenset(
    {
        "knn", "blazingtext", "linear-learner", "kmeans", "pca", "factorization-machines", "ntm", "lda",
        "randomcutforest", "object2vec", "ipinsights", "image-classification", "object-detection",
        "semantic-segmentation", "seq2seq", "forecasting-deepar",
    }
)  # fmt: skip


def _repository(image: str) -> str:
    return image.split("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]


def is_algorithm_image(image: str, hyperparameters: dict[str, str]) -> bool:
    """A SageMaker algorithm (not a script-mode framework): XGBoost is the algorithm when it runs no script."""
    repository = _repository(image)
    if repository == "sagemaker-xgboost":
        return "sagemaker_program" not in hyperparameters
    return repository in ALGORITHM_REPOSITORIES


@rule(
    "builtin-metric-definitions",
    [("sagemaker", "CreateTrainingJob")],
    # The service answers "You can't override the metric definitions for Amazon SageMaker algorithms";
    # built-ins publish their own metrics: https://docs.aws.amazon.com/sagemaker/latest/dg/training-metrics.html
    "https://docs.aws.amazon.com/sagemaker/latest/dg/training-metrics.html",
)
def builtin_metric_definitions(request: Request, world: World) -> Iterator[str]:
    spec = request.params.get("AlgorithmSpecification", {})
    if spec.get("MetricDefinitions") and is_algorithm_image(
        spec.get("TrainingImage", ""), request.params.get("HyperParameters", {})
    ):
        yield "CreateTrainingJob: MetricDefinitions are refused for SageMaker algorithms (they report their own)"


@rule(
    "training-stopping-condition",
    [("sagemaker", "CreateTrainingJob")],
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html (28 days at most; "
    "MaxWaitTimeInSeconds at least MaxRuntimeInSeconds, and only with managed spot training)",
)
def stopping_condition(request: Request, world: World) -> Iterator[str]:
    stop = request.params.get("StoppingCondition", {})
    runtime, wait = stop.get("MaxRuntimeInSeconds"), stop.get("MaxWaitTimeInSeconds")
    if runtime is not None and runtime > 28 * 24 * 3600:
        yield f"CreateTrainingJob: MaxRuntimeInSeconds {runtime} exceeds 28 days"
    if wait is not None and not request.params.get("EnableManagedSpotTraining"):
        yield "CreateTrainingJob: MaxWaitTimeInSeconds is only allowed with managed spot training"
    if wait is not None and runtime is not None and wait < runtime:
        yield f"CreateTrainingJob: MaxWaitTimeInSeconds {wait} is less than MaxRuntimeInSeconds {runtime}"


def _sagemaker_s3_uris(request: Request) -> Iterator[tuple[str, str]]:
    params = request.params
    for channel in params.get("InputDataConfig") or []:
        uri = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
        if uri:
            yield f"InputDataConfig[{channel.get('ChannelName')}]", uri
    for path, uri in (
        ("OutputDataConfig.S3OutputPath", params.get("OutputDataConfig", {}).get("S3OutputPath")),
        ("CheckpointConfig.S3Uri", params.get("CheckpointConfig", {}).get("S3Uri")),
        ("PrimaryContainer.ModelDataUrl", params.get("PrimaryContainer", {}).get("ModelDataUrl")),
        ("DataCaptureConfig.DestinationS3Uri", params.get("DataCaptureConfig", {}).get("DestinationS3Uri")),
    ):
        if uri:
            yield path, uri


@rule(
    "sagemaker-bucket-region",
    [("sagemaker", "CreateTrainingJob"), ("sagemaker", "CreateModel"), ("sagemaker", "CreateEndpointConfig")],
    # "The model artifacts must be in an S3 bucket that is in the same region as the model or endpoint":
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html (ModelDataUrl);
    # training reads and writes buckets of its own Region the same way (reference.md, "Rules real AWS enforces").
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html",
)
def sagemaker_bucket_region(request: Request, world: World) -> Iterator[str]:
    for path, uri in _sagemaker_s3_uris(request):
        if not uri.startswith("s3://"):
            continue
        bucket, _ = _split_s3(uri)
        region = world.bucket_region(bucket)
        if region is not None and region != request.region:
            yield f"{request.operation}: {path} is in bucket {bucket} of {region}, not {request.region}"


@rule(
    "serverless-exclusions",
    [("sagemaker", "CreateEndpointConfig")],
    "https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions",
)
def serverless_exclusions(request: Request, world: World) -> Iterator[str]:
    variants = request.params.get("ProductionVariants") or []
    serverless = [v for v in variants if v.get("ServerlessConfig")]
    if serverless and request.params.get("DataCaptureConfig"):
        yield "CreateEndpointConfig: serverless endpoints do not support data capture (DataCaptureConfig)"
    if serverless and len(variants) > 1:
        yield "CreateEndpointConfig: serverless endpoints have exactly one production variant"
    for variant in serverless:
        for key in ("InstanceType", "InitialInstanceCount"):
            if key in variant:
                yield f"CreateEndpointConfig: a serverless variant takes no {key}"
    for variant in variants:
        if not variant.get("ServerlessConfig") and not variant.get("InstanceType"):
            yield "CreateEndpointConfig: an instance-based variant needs InstanceType"


def _is_serverless(config: dict[str, Any]) -> bool:
    return any(v.get("ServerlessConfig") for v in config.get("ProductionVariants", []))


@rule(
    "no-update-between-serverless-and-instance",
    [("sagemaker", "UpdateEndpoint")],
    # "You can't convert an instance-based, real-time endpoint to a serverless endpoint" (and back):
    "https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-create-invoke-update-delete.html",
)
def update_kind(request: Request, world: World) -> Iterator[str]:
    endpoint = world.endpoint(request.params["EndpointName"])
    if endpoint is None:
        return
    current = world.endpoint_config(endpoint["EndpointConfigName"])
    new = world.endpoint_config(request.params["EndpointConfigName"])
    if current is not None and new is not None and _is_serverless(current) != _is_serverless(new):
        kinds = {True: "serverless", False: "instance-based"}
        yield (
            f"UpdateEndpoint: endpoint {request.params['EndpointName']} is {kinds[_is_serverless(current)]}; "
            f"it cannot be updated to a {kinds[_is_serverless(new)]} config"
        )


@rule(
    "endpoint-name-free",
    [("sagemaker", "CreateEndpoint")],
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html "
    "(names are unique per account and Region; a deleting endpoint still holds its name)",
)
def endpoint_name_free(request: Request, world: World) -> Iterator[str]:
    existing = world.endpoint(request.params["EndpointName"])
    if existing is not None:
        yield f"CreateEndpoint: endpoint {request.params['EndpointName']} already exists ({existing.get('EndpointStatus')})"


HANDLER_IN_MODEL_REPOSITORIES = ("pytorch-inference", "tensorflow-inference")


@rule(
    "framework-handler-in-model",
    [("sagemaker", "CreateModel")],
    # The PyTorch and TensorFlow serving containers load the handler from model.tar.gz/code/; the SDK
    # repacks the model for them (SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code); an s3:// source is ignored.
    "https://sagemaker.readthedocs.io/en/stable/frameworks/pytorch/using_pytorch.html#bring-your-own-model",
)
def framework_handler(request: Request, world: World) -> Iterator[str]:
    container = request.params.get("PrimaryContainer", {})
    if _repository(container.get("Image", "")) not in HANDLER_IN_MODEL_REPOSITORIES:
        return
    env = container.get("Environment", {})
    program = env.get("SAGEMAKER_PROGRAM")
    if not program:
        return
    submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY", "/opt/ml/model/code")
    if submit != "/opt/ml/model/code":
        yield f"CreateModel: {_repository(container['Image'])} ignores SAGEMAKER_SUBMIT_DIRECTORY={submit}; the handler must be in model.tar.gz/code/"
        return
    bucket, key = _split_s3(container.get("ModelDataUrl", ""))
    archive = world.object_bytes(bucket, key)
    if archive is None:
        return
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
        names = {name.removeprefix("./") for name in tar.getnames()}
    if f"code/{program}" not in names:
        yield f"CreateModel: model.tar.gz has no code/{program} for the {_repository(container['Image'])} container"


# ---------------------------------------------------------------------------------- S3

S3_MAX_SINGLE_PUT = 5 * 1024**3


@rule(
    "s3-object-size-and-key",
    [("s3", "PutObject"), ("s3", "CreateMultipartUpload"), ("s3", "GetObject"), ("s3", "HeadObject")],
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html (keys up to 1,024 bytes of UTF-8); "
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html (one PUT up to 5 GB)",
)
def s3_object(request: Request, world: World) -> Iterator[str]:
    key = request.params.get("Key", "")
    if len(key.encode()) > 1024:
        yield f"{request.operation}: key is {len(key.encode())} bytes; S3 keys are at most 1,024"
    body = request.params.get("Body")
    if isinstance(body, (bytes, bytearray)) and len(body) > S3_MAX_SINGLE_PUT:
        yield f"{request.operation}: body is {len(body)} bytes; one PUT takes at most 5 GB (use multipart)"


BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@rule(
    "s3-bucket-name",
    [("s3", "CreateBucket")],
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
)
def bucket_name(request: Request, world: World) -> Iterator[str]:
    name = request.params.get("Bucket", "")
    if not BUCKET_NAME.match(name) or ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        yield f"CreateBucket: {name!r} ({len(name)} characters) is not a valid bucket name (3-63 of a-z 0-9 . -)"


@rule(
    "s3-public-policy-blocked",
    [("s3", "PutBucketPolicy")],
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html "
    "(BlockPublicPolicy, of the bucket or the account, makes PutBucketPolicy with a public grant fail: AccessDenied)",
)
def public_policy(request: Request, world: World) -> Iterator[str]:
    policy = request.params.get("Policy", "")
    document = json.loads(policy) if isinstance(policy, str) and policy.startswith("{") else {}
    public = any(s.get("Principal") in ("*", {"AWS": "*"}) for s in document.get("Statement", []))
    if public and world.blocks_public_policy(request.params.get("Bucket", "")):
        yield f"PutBucketPolicy: Block Public Access refuses a public policy on {request.params.get('Bucket')}"


# ---------------------------------------------------------------------------------- IAM

IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"


@rule(
    "iam-policy-sizes",
    [("iam", "CreateRole"), ("iam", "PutRolePolicy")],
    IAM_QUOTAS + " (trust policy 2,048; inline role policies 10,240 characters)",
)
def iam_sizes(request: Request, world: World) -> Iterator[str]:
    trust = request.params.get("AssumeRolePolicyDocument")
    if isinstance(trust, str) and len(re.sub(r"\s", "", trust)) > 2048:
        yield f"CreateRole: the trust policy is {len(trust)} characters; the quota is 2,048"
    inline = request.params.get("PolicyDocument")
    if isinstance(inline, str) and len(re.sub(r"\s", "", inline)) > 10240:
        yield f"PutRolePolicy: the policy is {len(inline)} characters; a role's inline policies take 10,240"


# ---------------------------------------------------------------------------------- Lambda

LAMBDA_LIMITS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
LAMBDA_RESERVED = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip
LAMBDA_ZIP_MAX = 50 * 1024 * 1024
LAMBDA_UNZIPPED_MAX = 250 * 1024 * 1024


@rule(
    "lambda-environment",
    [("lambda", "CreateFunction"), ("lambda", "UpdateFunctionConfiguration")],
    "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html (reserved keys; 4 KB in all)",
)
def lambda_environment(request: Request, world: World) -> Iterator[str]:
    variables = (request.params.get("Environment") or {}).get("Variables") or {}
    for key in variables:
        if key in LAMBDA_RESERVED or key.startswith("AWS_LAMBDA_"):
            yield f"{request.operation}: environment variable {key} is reserved by Lambda"
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in variables.items())
    if size > 4096:
        yield f"{request.operation}: the environment is {size} bytes; Lambda allows 4 KB"


@rule(
    "lambda-function-limits",
    [("lambda", "CreateFunction")],
    LAMBDA_LIMITS
    + "; https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (a name alone: 64 characters)",
)
def lambda_limits(request: Request, world: World) -> Iterator[str]:
    params = request.params
    name = params.get("FunctionName", "")
    if not name.startswith("arn:") and len(name) > 64:
        yield f"CreateFunction: function name {name!r} is {len(name)} characters; the limit is 64"
    if params.get("Timeout", 3) > 900:
        yield f"CreateFunction: Timeout {params['Timeout']} s exceeds 900 s"
    if not 128 <= params.get("MemorySize", 128) <= 10240:
        yield f"CreateFunction: MemorySize {params['MemorySize']} MB is outside 128-10,240"
    code = params.get("Code") or {}
    zipped = code.get("ZipFile")
    if isinstance(zipped, (bytes, bytearray)):
        if len(zipped) > LAMBDA_ZIP_MAX:
            yield f"CreateFunction: ZipFile is {len(zipped) / 2**20:.1f} MB; direct uploads take 50 MB (use S3)"
        import zipfile

        with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        if unzipped > LAMBDA_UNZIPPED_MAX:
            yield f"CreateFunction: the package is {unzipped / 2**20:.1f} MB unzipped; Lambda allows 250 MB"
    elif code.get("UnzippedSize", 0) > LAMBDA_UNZIPPED_MAX:
        yield f"CreateFunction: the package is {code['UnzippedSize'] / 2**20:.1f} MB unzipped; Lambda allows 250 MB"


# ---------------------------------------------------------------------------------- API Gateway

APIGATEWAY_LIMITS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"


@rule(
    "apigateway-integration",
    [("apigateway", "PutIntegration")],
    APIGATEWAY_LIMITS + " (integration timeout 50 ms - 29 s)",
)
def integration(request: Request, world: World) -> Iterator[str]:
    params = request.params
    timeout = params.get("timeoutInMillis")
    if timeout is not None and not 50 <= timeout <= 29000:
        yield f"PutIntegration: timeoutInMillis {timeout} is outside 50-29,000"
    uri = params.get("uri", "")
    if params.get("type") == "AWS" and ":runtime.sagemaker:" in uri:
        # The SageMaker runtime path needs the double slash (reference.md); and a role to call it with.
        wanted = f"arn:{partition(request.region)}:apigateway:{request.region}:runtime.sagemaker:path//endpoints/"
        if not (uri.startswith(wanted) and uri.endswith("/invocations")):
            yield f"PutIntegration: {uri!r} is not the SageMaker runtime's InvokeEndpoint path ({wanted}NAME/invocations)"
        if not params.get("credentials"):
            yield "PutIntegration: an AWS integration with SageMaker needs credentials (a role API Gateway assumes)"


@rule(
    "apigateway-stage-name",
    [("apigateway", "CreateStage")],
    "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html (letters, digits, hyphens, underscores; 128)",
)
def stage_name(request: Request, world: World) -> Iterator[str]:
    name = request.params.get("stageName", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", name):
        yield f"CreateStage: stage name {name!r} is not 1-128 letters, digits, '-' or '_'"


# ---------------------------------------------------------------------------------- CloudWatch Logs

RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


@rule(
    "logs-retention",
    [("logs", "PutRetentionPolicy")],
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
)
def retention(request: Request, world: World) -> Iterator[str]:
    days = request.params.get("retentionInDays")
    if days is not None and days not in RETENTION_DAYS:
        yield f"PutRetentionPolicy: {days} is not a retention CloudWatch Logs offers"
