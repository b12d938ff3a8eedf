"""The pipeline spec as typed models: the single source of truth for its shape.

`schemas/pipeline.schema.json` is generated from these models (see `schema.py`),
so editors, the JSON Schema check and pydantic always agree.
"""

# No `from __future__ import annotations`: pydantic would eval every field's type from a string.
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

# Step names become parts of AWS resource names, so they stay short and plain.
STEP_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,39}$"
PIPELINE_NAME = r"^[A-Za-z][A-Za-z0-9-]{0,39}$"
DEFAULT_STATE = ".orchestrator"


def _no_entries() -> dict:
    """An empty mapping per instance. Not the `dict` builtin: pydantic reads each default
    factory's signature, and a builtin's is parsed from text by a tokenizer it must compile."""
    return {}


def _no_items() -> list:
    """An empty list per instance (see `_no_entries`)."""
    return []


class Strict(BaseModel):
    """Base for every spec object: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Instance(Strict):
    type: str = Field(description="SageMaker instance type, e.g. ml.m5.large.")
    count: int = Field(1, ge=1, le=100, description="Number of instances.")
    volume_gb: int = Field(30, ge=1, le=16384, description="Training volume size (training only).")


class Metric(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:/-]{1,255}$", description="Metric name.")
    regex: str = Field(
        min_length=1, max_length=500, description="Regex with one group that captures the value from the log."
    )


class Spot(Strict):
    max_wait_s: int = Field(ge=1, le=2419200, description="Longest wait for spot capacity plus training, seconds.")
    checkpoint_s3_uri: str | None = Field(
        None, pattern=r"^s3://", description="Where checkpoints survive interruptions."
    )


class TrainingStep(Strict):
    """A SageMaker training job: a script in a framework container, a built-in algorithm, or an image."""

    type: Literal["training"]
    framework: Literal["sklearn", "xgboost", "pytorch", "tensorflow"] | None = Field(
        None, description="Script mode framework container for entry_point."
    )
    framework_version: str | None = Field(None, description="Framework container version, e.g. 1.2-1.")
    algorithm: Literal["knn", "xgboost", "linear-learner", "blazingtext"] | None = Field(
        None, description="SageMaker built-in algorithm."
    )
    image: str | None = Field(None, description="A custom training image URI.")
    entry_point: str | None = Field(None, description="Training script, relative to the spec file.")
    source_dir: str | None = Field(None, description="Folder shipped with the script (default: the script's folder).")
    inputs: dict[str, str] = Field(default_factory=_no_entries, description="Channel name -> local path or s3:// URI.")
    hyperparameters: dict[str, str | int | float | bool] = Field(default_factory=_no_entries)
    instance: Instance = Field(default_factory=lambda: Instance(type="ml.m5.large"))
    max_runtime_s: int = Field(86400, ge=1, le=2419200, description="Stop the job after this many seconds.")
    spot: Spot | None = None
    metrics: list[Metric] = Field(default_factory=_no_items, description="Metrics parsed from the training log.")
    environment: dict[str, str] = Field(default_factory=_no_entries)
    tags: dict[str, str] = Field(default_factory=_no_entries)


class Serverless(Strict):
    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(5, ge=1, le=200)


class Autoscaling(Strict):
    """Target tracking on invocations per instance (Application Auto Scaling on aws; worker processes locally)."""

    min: int = Field(1, ge=1, le=100, description="Fewest instances.")
    max: int = Field(ge=1, le=100, description="Most instances.")
    target_invocations_per_instance: int = Field(
        ge=1,
        description="Invocations per instance per minute the endpoint is scaled to keep (SageMakerVariantInvocationsPerInstance).",
    )
    scale_in_cooldown_s: int = Field(300, ge=0, le=86400, description="Wait after a scale-in before the next one.")
    scale_out_cooldown_s: int = Field(60, ge=0, le=86400, description="Wait after a scale-out before the next one.")


class PromoteWhen(Strict):
    """The gate a new model must pass before it replaces the live one."""

    metric: str
    from_: str | None = Field(
        None,
        alias="from",
        description="A processing step with a report whose metric gates the model, instead of the training log's.",
    )
    at_least: float | None = Field(None, description="Floor the new model's metric must reach.")
    at_most: float | None = Field(None, description="Ceiling for metrics where lower is better.")
    beats_live: bool = Field(False, description="The new model must beat the live model's metric.")
    margin: float = Field(0.0, ge=0, description="By at least this much, when beats_live.")


class DataCapture(Strict):
    s3_uri: str = Field(pattern=r"^s3://")
    sampling_percent: int = Field(100, ge=0, le=100)


class EndpointStep(Strict):
    """A real-time or serverless SageMaker endpoint serving a model."""

    type: Literal["endpoint"]
    model: str = Field(description="Model artifact, usually ${steps.<training>.outputs.model}.")
    endpoint_name: str | None = Field(None, description="Default: <pipeline>-<step>.")
    inference: str | None = Field(
        None, description="Inference handler module (model_fn/input_fn/predict_fn/output_fn)."
    )
    framework: Literal["sklearn", "xgboost", "pytorch", "tensorflow"] | None = None
    framework_version: str | None = None
    image: str | None = None
    instance: Instance | None = None
    serverless: Serverless | None = None
    autoscaling: Autoscaling | None = None
    environment: dict[str, str] = Field(default_factory=_no_entries)
    promote_when: PromoteWhen | None = None
    data_capture: DataCapture | None = None
    tags: dict[str, str] = Field(default_factory=_no_entries)


class Cors(Strict):
    allow_origins: list[str] = Field(min_length=1, description="Origins allowed to call the API; ['*'] for any.")
    allow_methods: list[str] | None = Field(None, description="Default: the methods of the API's routes.")
    allow_headers: list[str] = Field(
        default_factory=lambda: ["Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key"]
    )
    expose_headers: list[str] = Field(default_factory=_no_items)
    max_age_s: int = Field(600, ge=0, le=86400)
    allow_credentials: bool = False

    @property
    def any_origin(self) -> bool:
        """Every origin gets a static `*` (browsers refuse it with credentials); otherwise the
        caller's Origin is echoed per request, which only a mapping template can do."""
        return "*" in self.allow_origins and not self.allow_credentials


class Throttling(Strict):
    rate_limit: float = Field(50.0, gt=0, description="Steady requests per second.")
    burst_limit: int = Field(100, ge=1)


class ApiKey(Strict):
    quota_limit: int | None = Field(None, ge=1)
    quota_period: Literal["DAY", "WEEK", "MONTH"] = "DAY"


class Route(Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "ANY"]
    path: str = Field(pattern=r"^/", description="Resource path, e.g. /predict or /items/{id}.")
    integration: Literal["lambda", "direct"]
    endpoint: str | None = Field(
        None,
        description="Endpoint name, usually ${steps.<endpoint>.outputs.endpoint_name}. Direct routes need one; "
        "a lambda route without one calls no endpoint (a health check, a config route).",
    )
    proxy: bool = Field(
        True,
        description="lambda routes: false for API Gateway's custom (non-proxy) integration: the function gets "
        "the JSON body (or what request_template renders) and what it returns is the 200 body.",
    )
    request_template: str | None = Field(
        None,
        description="proxy: false routes: the VTL mapping template that makes the event from the request "
        "(default $input.json('$'), the body).",
    )
    errors: dict[str, int] | None = Field(
        None,
        description="proxy: false routes: regex on a function error's errorMessage -> HTTP status, e.g. "
        "{'.*not found.*': 404}. An error no pattern matches answers 200 with the error as body, as on API "
        "Gateway. Default: every error is 500.",
    )
    handler: str | None = Field(None, description="lambda routes: file.py:function, relative to the spec.")
    runtime: str = "python3.12"
    memory_mb: int = Field(256, ge=128, le=10240)
    timeout_s: float = Field(29, gt=0, le=29, description="Integration timeout; API Gateway caps it at 29 s.")
    environment: dict[str, str] = Field(default_factory=_no_entries)
    requirements: str | None = Field(None, description="requirements.txt packaged with a lambda route.")
    s3_read: list[str] = Field(
        default_factory=_no_items,
        description="lambda routes: S3 objects, or prefixes ending in '/', the function may read "
        "(s3:GetObject on exactly those), e.g. ${steps.features.outputs.model}.",
    )
    content_type: str = Field("application/json", description="direct routes: Content-Type sent to the endpoint.")
    accept: str = Field("application/json", description="direct routes: Accept sent to the endpoint.")
    request_schema: dict[str, Any] | None = Field(
        None,
        description="A JSON Schema (draft 4, as API Gateway models take) the request body must match: API "
        "Gateway answers 400 'Invalid request body' before the function or model runs. It describes the JSON "
        "body of the route's content type (lambda routes: application/json); a body sent as another type "
        "(a browser's text/plain) is not checked, as on API Gateway.",
    )

    @property
    def body_type(self) -> str:
        """The content type of the body the route forwards (what a request_schema describes):
        a direct route's own, JSON for a lambda route (Lambda takes JSON events)."""
        return self.content_type if self.integration == "direct" else "application/json"


class ApiStep(Strict):
    """An API Gateway REST API whose routes proxy to endpoints, through a Lambda or directly."""

    type: Literal["api"]
    stage: str = Field("prod", pattern=r"^[A-Za-z0-9_]{1,128}$")
    routes: list[Route] = Field(min_length=1)
    cors: Cors | None = None
    throttling: Throttling = Field(default_factory=Throttling)
    api_key: ApiKey | None = None
    detailed_metrics: bool = Field(
        False, description="Per-method CloudWatch metrics of the stage (CloudWatch bills them)."
    )


class WebsiteStep(Strict):
    """A static website (S3 website hosting) with a generated config file."""

    type: Literal["website"]
    source: str = Field(description="Folder with the site's files, relative to the spec.")
    index: str = "index.html"
    error: str = "error.html"
    public: bool = Field(True, description="Allow public read of the site's objects.")
    config: dict[str, str] = Field(default_factory=_no_entries, description="Written beside the page as config_file.")
    config_file: str = Field("config.js", pattern=r"^[A-Za-z0-9_.-]+\.(js|json)$")


# Kinds whose models live in modules of their own (they build on the models above).
from .processing import ProcessingStep  # noqa: E402
from .transform import TransformStep  # noqa: E402
from .tuning import TuningStep  # noqa: E402

# Every kind of step, as a model; `kinds.py` holds one record per model.
STEP_MODELS: tuple[type[Strict], ...] = (
    TrainingStep,
    EndpointStep,
    ApiStep,
    WebsiteStep,
    ProcessingStep,
    TransformStep,
    TuningStep,
)
Step = Annotated[Union[STEP_MODELS], Field(discriminator="type")]  # noqa: UP007  (a union built from the tuple)


class AwsSettings(Strict):
    """Account-side settings for target: aws."""

    role_arn: str | None = Field(None, description="SageMaker execution role ARN.")
    bucket: str | None = Field(None, description="S3 bucket for inputs, code and model artifacts.")
    prefix: str = Field("orchestrator", description="Key prefix inside the bucket.")
    profile: str | None = None
    pulumi_backend: str | None = Field(None, description="Pulumi state backend URL; default a local file backend.")


class Schedule(Strict):
    retrain: str = Field(description="cron(...) or rate(...) expression, as EventBridge takes them.")


class Pipeline(Strict):
    """A whole pipeline: training through to a public API and web page."""

    version: Literal[1] = 1
    name: str = Field(pattern=PIPELINE_NAME, description="Pipeline name; prefixes the resources it makes.")
    target: Literal["local", "aws"] = "local"
    region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    state: str = Field(DEFAULT_STATE, description="State folder beside the spec, or s3://bucket/prefix.")
    aws: AwsSettings = Field(default_factory=AwsSettings)
    steps: dict[Annotated[str, Field(pattern=STEP_NAME)], Step] = Field(min_length=1)
    schedule: Schedule | None = None

    def local_folder(self) -> str:
        """The folder beside the spec for state and the local target's files; with state in S3,
        the default one (the local target's files stay on this machine)."""
        return DEFAULT_STATE if self.state.startswith("s3://") else self.state
