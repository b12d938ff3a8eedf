"""What the local cloud's client and daemon say to each other, and what the daemon records.

One module for both sides: the request for each kind of service, the answers, the
record kept in services.json with its schema_version, and the address of each
service, so no URL shape or default is rebuilt on the other side. The requests carry
every value (the spec's models own the defaults). Standard library only: `plan` and
`status` import the client side and must start fast; the daemon validates with pydantic.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .offdisk import FieldPath, environment_paths, secret_paths, without

SCHEMA_VERSION = 5  # of services.json; 1 recorded an API as its whole spec step, 2 ran Lambdas from the project,
# 3 sent an API as routes, 4 sent its OpenAPI document and an endpoint its autoscaling (5 keeps the values that
# came from ${env:...} off disk: a record names where they were, the daemon holds them in memory only)
MIGRATED_VERSION = 4  # read as 5 with every environment value kept in memory only (4 did not say which were secret)
HOST = "127.0.0.1"
NEEDS_RUN = (
    "needs `python -m orchestrator run` again: its environment has ${env:...} values "
    "the local cloud does not keep on disk"
)
NEEDS_RUN_HEADER = "x-local-cloud-needs-run"  # on a restored service's 503: probes read it as "gone"
RUNTIME_PREFIX = "/endpoints/"  # the SageMaker runtime's InvokeEndpoint path: /endpoints/{name}/invocations
RUNTIME_SUFFIX = "/invocations"


class ProtocolError(ValueError):
    """A request, answer or record without the shape this version of the protocol reads."""


class RecordVersionError(ProtocolError):
    """services.json was written under another schema_version; its services are not restored."""

    def __init__(self, path: Path, found: Any):
        self.path, self.found = path, found
        written = "by an older orchestrator" if isinstance(found, int) and found < SCHEMA_VERSION else None
        if isinstance(found, int) and found > SCHEMA_VERSION:
            written = "by a newer orchestrator"
        what = f"schema_version {found!r}" if found is not None else "no schema_version"
        super().__init__(
            f"{path.name} has {what} ({written or 'not a record this orchestrator wrote'}); "
            f"this orchestrator reads version {SCHEMA_VERSION}"
        )

    @property
    def newer(self) -> bool:
        return isinstance(self.found, int) and self.found > SCHEMA_VERSION


# -- addresses ------------------------------------------------------------------------------


def local_url(port: int, path: str = "") -> str:
    return f"http://{HOST}:{port}{path}"


def invocations_url(port: int, endpoint: str) -> str:
    """The runtime API's InvokeEndpoint URL for `endpoint`, on any port of the daemon."""
    return local_url(port, f"{RUNTIME_PREFIX}{endpoint}{RUNTIME_SUFFIX}")


def api_url(port: int, stage: str) -> str:
    return local_url(port, f"/{stage}")


def website_url(port: int) -> str:
    return local_url(port, "/")


def function_name(api_id: str, method: str, path: str) -> str:
    """The Lambda function a route of an API runs as (its log is named after it)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "root"
    return f"{api_id}-{method.lower()}-{slug}"[:64]


# -- requests: what each kind of service needs -------------------------------------------------


@dataclass(frozen=True)
class ScalingRequest:
    """Target tracking for an endpoint: its workers follow invocations per worker per minute."""

    min: int
    max: int
    target_invocations_per_instance: int
    scale_in_cooldown_s: int
    scale_out_cooldown_s: int


@dataclass(frozen=True)
class EndpointRequest:
    """A model to serve: its artifact, the inference module (None: packed or built-in), its environment."""

    model_uri: str  # s3:// (the local S3) or file://
    inference: str | None
    environment: dict[str, str]
    framework: str | None = None  # tensorflow follows TF Serving's contract; pytorch/tensorflow read code/
    serverless: bool = False  # 4 MB payloads instead of 6 MB
    region: str = "us-east-1"
    autoscaling: ScalingRequest | None = None  # None: a fixed number of workers


@dataclass(frozen=True)
class LambdaCode:
    """What a lambda route's function runs: its bundle (LAMBDA_TASK_ROOT), with `_HANDLER`'s
    module.function, and the layers after it on sys.path (its requirements, the runtime's boto3)."""

    bundle: str
    handler: str  # module.function, as Lambda's _HANDLER
    layers: tuple[str, ...]
    runtime: str  # e.g. python3.12
    s3_read: tuple[str, ...]  # s3:// objects or prefixes ending in / that it may read


@dataclass(frozen=True)
class FunctionRequest:
    """The Lambda function behind one `aws_proxy` integration: the document names it by `arn`
    (in its integration uri); the rest is what the function runs with."""

    arn: str
    method: str  # of the route it serves: the function's local name derives from it
    path: str
    endpoint: str | None  # ENDPOINT_NAME and where its boto3 reaches the runtime; None: it calls none
    memory_mb: int
    environment: dict[str, str]
    code: LambdaCode
    # the api's CORS policy (lambda_shim.policy_of): added to its proxy answers as the deployed wrapper does
    cors: dict[str, Any] | None = None


@dataclass(frozen=True)
class Throttle:
    """Requests per second and burst, as a stage's (or usage plan's) throttle settings."""

    rate_limit: float
    burst_limit: int


@dataclass(frozen=True)
class ApiKeyRequest:
    """The API key a usage plan ties to the stage, with the plan's throttle and quota."""

    value: str
    throttle: Throttle
    quota_limit: int | None
    quota_period: str  # DAY, WEEK or MONTH


@dataclass(frozen=True)
class ApiRequest:
    """One REST API stage: the OpenAPI document it serves (orchestrator.apidoc's, with local
    ARNs), the functions its integrations name, and the stage's own settings."""

    stage: str
    document: dict[str, Any]
    functions: tuple[FunctionRequest, ...]
    throttle: Throttle
    api_key: ApiKeyRequest | None
    base_dir: str
    region: str


@dataclass(frozen=True)
class WebsiteRequest:
    source: str  # absolute path of the site's folder
    index: str
    error: str
    config_file: str
    config: dict[str, str]


ServiceRequest = EndpointRequest | ApiRequest | WebsiteRequest
for _request in (
    ScalingRequest,
    EndpointRequest,
    LambdaCode,
    FunctionRequest,
    Throttle,
    ApiKeyRequest,
    ApiRequest,
    WebsiteRequest,
):
    _request.__pydantic_config__ = {"extra": "forbid"}  # read by the daemon's validation; a plain dict here
# The services a daemon hosts, by the name the control API and services.json use for them.
SERVICES: dict[str, type] = {"endpoints": EndpointRequest, "apis": ApiRequest, "websites": WebsiteRequest}
# What a service of these serves is public (a website's config.js is read by every browser, and it is a
# file of its bucket): its values from ${env:...} are recorded as published, not held in memory.
PUBLISHED = frozenset({"websites"})


def service_of(request: ServiceRequest) -> str:
    """`endpoints`, `apis` or `websites`: where a request of this type goes."""
    for service, cls in SERVICES.items():
        if isinstance(request, cls):
            return service
    raise ProtocolError(f"{type(request).__name__} is not a request for a local service")


def service_path(service: str, name: str) -> str:
    return f"/{service}/{name}"


def put_body(request: ServiceRequest, port: int | None, secret: frozenset[str] = frozenset()) -> dict[str, Any]:
    """PUT /{service}/{name}: the request, the port the service must keep (None: any), and where in
    the request the `secret` values are (the daemon serves them but never writes them down)."""
    spec = dataclasses.asdict(request)
    paths = () if service_of(request) in PUBLISHED else secret_paths(spec, secret)
    return {"spec": spec, "port": port, "secrets": [list(path) for path in paths]}


# -- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PutAnswer:
    name: str
    port: int
    stopping: bool
    notices: tuple[str, ...] = ()  # what the daemon found on restore that the caller should be told


STATS_VERSION = 1  # of EndpointStats in the status answer


@dataclass(frozen=True)
class EndpointStats:
    """A live endpoint's figures since it was deployed, as the daemon's status answers them."""

    workers: int
    requests: int
    errors: int
    p50_ms: float | None  # None: no request yet
    p99_ms: float | None
    since: float | None  # epoch seconds of its first worker's start
    version: int = STATS_VERSION

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def read_stats(data: Any) -> EndpointStats | None:
    """An endpoint's stats in a status answer; None when absent or of another version."""
    if not isinstance(data, dict) or data.get("version") != STATS_VERSION:
        return None
    try:
        return read_answer(EndpointStats, data)
    except (ProtocolError, TypeError):
        return None


@dataclass(frozen=True)
class DeleteAnswer:
    name: str
    deleted: bool
    stopping: bool  # the last service is gone: the daemon exits


def read_answer(cls: type, data: Any) -> Any:
    """An answer of the daemon as `cls`; ProtocolError if it lacks a field."""
    if not isinstance(data, dict):
        raise ProtocolError(f"the daemon answered {type(data).__name__}, not an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    missing = [n for n, f in fields.items() if n not in data and f.default is dataclasses.MISSING]
    if missing:
        raise ProtocolError(f"the daemon's answer lacks {', '.join(missing)}")
    values = {n: data[n] for n in fields if n in data}
    if "notices" in values:
        values["notices"] = tuple(values["notices"])
    return cls(**values)


# -- the durable record -------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRecord:
    """One service in services.json: what it serves, and the port it keeps across restarts."""

    spec: ServiceRequest
    port: int
    secrets: tuple[FieldPath, ...] = ()  # where the spec's values from ${env:...} are: held in memory only

    def to_json(self) -> dict[str, Any]:
        spec = without(dataclasses.asdict(self.spec), self.secrets)
        return {"spec": spec, "port": self.port, "secrets": [list(path) for path in self.secrets]}


def kept_on_disk(raw: Any) -> Any:
    """A record (as JSON) as services.json may hold it: null wherever its `secrets` point."""
    if not isinstance(raw, dict) or not isinstance(raw.get("secrets"), list):
        return raw
    try:
        return {**raw, "spec": without(raw.get("spec"), tuple(tuple(p) for p in raw["secrets"]))}
    except (KeyError, IndexError, TypeError):
        return {**raw, "spec": None}  # secrets that point nowhere: keep nothing that might be one


def services_document(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """services.json's content: the schema version and, per service, name -> record (as JSON),
    never with a value that came from ${env:...}."""
    return {
        "schema_version": SCHEMA_VERSION,
        **{
            service: {name: kept_on_disk(raw) for name, raw in records.get(service, {}).items()} for service in SERVICES
        },
    }


def read_services(path: Path) -> dict[str, dict[str, Any]] | None:
    """The records in services.json by service and name, still as JSON; None when there is no file.

    Raises RecordVersionError for a file of another schema_version, ProtocolError for one
    that is not such a record at all. Other OSErrors propagate: a daemon must not half-start.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"{path.name} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError(f"{path.name} holds {type(data).__name__}, not a record of services")
    version = data.get("schema_version")
    if version not in (SCHEMA_VERSION, MIGRATED_VERSION):
        raise RecordVersionError(path, version)
    services = {}
    for service in SERVICES:
        entries = data.get(service) or {}
        if not isinstance(entries, dict):
            raise ProtocolError(f"{path.name}: {service} is {type(entries).__name__}, not an object")
        if version == MIGRATED_VERSION:
            entries = {name: _migrated(service, raw) for name, raw in entries.items()}
        services[service] = entries
    return services


def _migrated(service: str, raw: Any) -> Any:
    """A version-4 record as version 5: its environment values still there (so it is served
    now) but marked secret, so the next write keeps them off disk."""
    if not isinstance(raw, dict):
        return raw
    paths = environment_paths(service, raw.get("spec"))
    return {**raw, "secrets": [list(p) for p in paths]}
