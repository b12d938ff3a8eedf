"""Stack config -> plain, validated settings, so every component reads typed values.

The orchestrator's hand-off writes these keys (see pulumi/README.md); a person can
write the same ones by hand. Either `orchestrator:api` or `orchestrator:website`
(or both) may be absent: each builds only when configured.

`orchestrator:apiEnvironment` is a secret (route environments may hold keys):
it is read with `get_secret`, so it stays an Output and the Lambda's variables
stay secret in the state; everything else is plain.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

NAMESPACE = "orchestrator"
DEFAULT_RATE_LIMIT = 50.0
DEFAULT_BURST_LIMIT = 100
DEFAULT_LOG_RETENTION_DAYS = 14
API_GATEWAY_MAX_TIMEOUT_S = 29.0


class SettingsError(ValueError):
    """The stack config is missing a value or has one of the wrong shape."""


@dataclass(frozen=True)
class RouteSettings:
    method: str
    path: str
    integration: str  # lambda | direct
    endpoint_name: str | None = None  # a lambda route may call no endpoint
    handler: str | None = None
    runtime: str = "python3.12"
    memory_mb: int = 256
    timeout_s: float = API_GATEWAY_MAX_TIMEOUT_S
    environment: dict[str, str] = field(default_factory=dict)
    requirements: str | None = None
    s3_read: list[str] = field(default_factory=list)  # s3://bucket/key or s3://bucket/prefix/
    content_type: str = "application/json"
    accept: str = "application/json"
    # NAME -> "{{resolve:ssm:NAME}}" / "{{resolve:secretsmanager:ID}}": read by the function at init
    references: dict[str, str] = field(default_factory=dict)
    proxy: bool = True  # False: API Gateway's custom integration, whose answers are bodies, not proxy responses

    @property
    def key(self) -> str:
        """How the route is named in outputs: `POST /predict`."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class CorsSettings:
    allow_origins: list[str]
    allow_methods: list[str] | None = None
    allow_headers: list[str] = field(
        default_factory=lambda: ["Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key"]
    )
    expose_headers: list[str] = field(default_factory=list)
    max_age_s: int = 600
    allow_credentials: bool = False


@dataclass(frozen=True)
class ThrottlingSettings:
    rate_limit: float = DEFAULT_RATE_LIMIT
    burst_limit: int = DEFAULT_BURST_LIMIT


@dataclass(frozen=True)
class ApiKeySettings:
    quota_limit: int | None = None
    quota_period: str = "DAY"


@dataclass(frozen=True)
class ApiSettings:
    stage: str
    routes: list[RouteSettings]
    cors: CorsSettings | None = None
    throttling: ThrottlingSettings = field(default_factory=ThrottlingSettings)
    api_key: ApiKeySettings | None = None
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    detailed_metrics: bool = False  # per-method CloudWatch metrics, which CloudWatch bills


@dataclass(frozen=True)
class WebsiteSettings:
    source: str
    index: str = "index.html"
    error: str = "error.html"
    public: bool = True
    config: dict[str, str] = field(default_factory=dict)
    config_file: str = "config.js"


@dataclass(frozen=True)
class Settings:
    pipeline: str
    stack: str
    region: str
    project_dir: Path
    build_dir: Path
    api: ApiSettings | None
    website: WebsiteSettings | None
    state_dir: Path | None = None  # the pipeline's state folder: never uploaded with the website
    # `orchestrator:apiEnvironment`: {"METHOD /path": {NAME: value}}, a secret Output; None when unset
    route_environments: pulumi.Output[dict[str, dict[str, str]]] | None = None
    # `orchestrator:privateFolders`: what a lambda bundle never ships (the state folder, other steps' data)
    private_folders: list[Path] = field(default_factory=list)
    # `orchestrator:artifactBucket` / `artifactPrefix`: where bundles over 50 MB are uploaded for Lambda
    artifact_bucket: str | None = None
    artifact_prefix: str = "orchestrator"

    def path(self, relative: str) -> Path:
        """A path from the spec, resolved against the spec's folder."""
        return (self.project_dir / relative).resolve()

    @property
    def tags(self) -> dict[str, str]:
        """On every resource the program makes that takes tags: which pipeline and stack it belongs to."""
        return {"orchestrator:pipeline": self.pipeline, "orchestrator:stack": self.stack}

    @property
    def never_shipped(self) -> list[Path]:
        """Folders no bundle takes files from: the named private ones, the state and build folders."""
        return [*self.private_folders, self.state_dir or self.project_dir / ".orchestrator", self.build_dir]


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SettingsError(f"{where} must be a JSON object, got {type(data).__name__}")
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"{where} has unknown keys {unknown}; known: {sorted(known)}")
    try:
        return cls(**{key: value for key, value in data.items() if value is not None})
    except TypeError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


def parse_api(data: Any) -> ApiSettings:
    if not isinstance(data, dict):
        raise SettingsError("orchestrator:api must be a JSON object")
    data = dict(data)
    routes = [
        _build(RouteSettings, route, f"orchestrator:api routes[{i}]")
        for i, route in enumerate(data.pop("routes", []) or [])
    ]
    if not routes:
        raise SettingsError("orchestrator:api needs at least one route")
    for i, route in enumerate(routes):
        if route.integration not in ("lambda", "direct"):
            raise SettingsError(f"orchestrator:api routes[{i}].integration must be lambda or direct")
        if route.integration == "lambda" and not route.handler:
            raise SettingsError(f"orchestrator:api routes[{i}] is a lambda route without a handler (file.py:function)")
        if route.integration == "direct" and not route.endpoint_name:
            raise SettingsError(f"orchestrator:api routes[{i}] is a direct route without an endpoint_name")
        if not route.path.startswith("/"):
            raise SettingsError(f"orchestrator:api routes[{i}].path must start with /")
    cors = data.pop("cors", None)
    throttling = data.pop("throttling", None)
    api_key = data.pop("api_key", None)
    parts = {
        "routes": routes,
        "cors": _build(CorsSettings, cors, "orchestrator:api cors") if cors else None,
        "throttling": _build(ThrottlingSettings, throttling, "orchestrator:api throttling") if throttling else None,
        "api_key": _build(ApiKeySettings, api_key, "orchestrator:api api_key") if api_key is not None else None,
    }
    return _build(ApiSettings, {**data, **parts}, "orchestrator:api")


def parse_website(data: Any) -> WebsiteSettings:
    return _build(WebsiteSettings, data, "orchestrator:website")


def _json_config(config: pulumi.Config, key: str) -> Any:
    raw = config.get(key)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"orchestrator:{key} is not valid JSON: {exc}") from exc


def _secret_json_config(config: pulumi.Config, key: str) -> pulumi.Output[Any] | None:
    """A JSON value set with `pulumi config set --secret`, kept secret: an Output of the parsed value."""
    raw = config.get_secret(key)
    if raw is None:
        return None

    def parse(text: str) -> Any:
        try:
            return json.loads(text) if text else {}
        except json.JSONDecodeError as exc:
            raise SettingsError(f"orchestrator:{key} is not valid JSON: {exc}") from None  # no secret in the message

    return raw.apply(parse)


def _region() -> str:
    region = pulumi.Config("aws").get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    import pulumi_aws as aws  # only when nothing names the region

    return aws.get_region().region


def load_settings() -> Settings:
    """Read the stack's config once; every component gets the result."""
    config = pulumi.Config(NAMESPACE)
    project_dir = Path(config.get("projectDir") or os.getcwd()).expanduser().resolve()
    build_dir = config.get("buildDir")
    state_dir = config.get("stateDir")
    api = _json_config(config, "api")
    website = _json_config(config, "website")
    private = _json_config(config, "privateFolders") or []
    return Settings(
        pipeline=config.get("pipeline") or pulumi.get_project(),
        stack=pulumi.get_stack(),
        region=_region(),
        project_dir=project_dir,
        build_dir=Path(build_dir).expanduser().resolve()
        if build_dir
        else project_dir / ".orchestrator" / "pulumi-build",
        api=parse_api(api) if api is not None else None,
        website=parse_website(website) if website is not None else None,
        state_dir=Path(state_dir).expanduser().resolve() if state_dir else None,
        route_environments=_secret_json_config(config, "apiEnvironment"),
        private_folders=[Path(folder).expanduser().resolve() for folder in private],
        artifact_bucket=config.get("artifactBucket") or None,
        artifact_prefix=config.get("artifactPrefix") or "orchestrator",
    )
