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
from pydantic import ValidationError

from .....spec.models import ApiStep, Route

NAMESPACE = "orchestrator"
DEFAULT_LOG_RETENTION_DAYS = 14


class SettingsError(ValueError):
    """The stack config is missing a value or has one of the wrong shape."""


@dataclass(frozen=True)
class ApiSettings:
    """The api step itself (the spec's own model, references resolved), so the document the
    program deploys is compiled from exactly what `export openapi` and the local gateway read;
    plus what only the program knows: how long its logs are kept, whether the stage logs access."""

    step: ApiStep
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    # Access logging needs the account's API Gateway CloudWatch role (set once per Region), or
    # CreateStage fails: `false` deploys the stage without it.
    access_log: bool = True

    @property
    def stage(self) -> str:
        return self.step.stage

    @property
    def routes(self) -> list[Route]:
        return self.step.routes


@dataclass(frozen=True)
class WebsiteSettings:
    source: str
    index: str = "index.html"
    error: str = "error.html"
    public: bool = True
    config: dict[str, str] = field(default_factory=dict)
    config_file: str = "config.js"
    bucket: str | None = None  # the bucket's name, when chosen before (its origin was told); else autonamed


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


def _earlier_route(route: Any) -> Any:
    """A route as configs written before the step itself was the config named it: `endpoint_name`
    for `endpoint`, references in a `references` map of their own."""
    if not isinstance(route, dict):
        return route
    route = dict(route)
    if "endpoint_name" in route and "endpoint" not in route:
        route["endpoint"] = route.pop("endpoint_name")
    references = route.pop("references", None) or {}
    if references:
        route["environment"] = {**(route.get("environment") or {}), **references}
    return route


def _where(loc: tuple) -> str:
    """pydantic's location `("routes", 0, "timeout")` as the config names it: `routes[0].timeout`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_api(data: Any) -> ApiSettings:
    """`orchestrator:api`: the api step as the spec writes it (JSON), plus the program's own keys."""
    if not isinstance(data, dict):
        raise SettingsError("orchestrator:api must be a JSON object")
    data = dict(data)
    extras = {key: data.pop(key) for key in ApiSettings.__dataclass_fields__ if key != "step" and key in data}
    data.setdefault("type", "api")
    data["routes"] = [_earlier_route(route) for route in data.get("routes") or []]
    if not data["routes"]:
        raise SettingsError("orchestrator:api needs at least one route")
    try:
        step = ApiStep.model_validate({key: value for key, value in data.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{_where(error['loc']) or 'api'}: {error['msg']}" for error in exc.errors())
        raise SettingsError(
            f"orchestrator:api is not an api step: {problems} (route keys: {sorted(Route.model_fields)})"
        ) from None
    for i, route in enumerate(step.routes):
        if route.integration == "lambda" and not route.handler:
            raise SettingsError(f"orchestrator:api routes[{i}] is a lambda route without a handler (file.py:function)")
        if route.integration == "direct" and not route.endpoint:
            raise SettingsError(f"orchestrator:api routes[{i}] is a direct route without an endpoint")
    return _build(ApiSettings, {"step": step, **extras}, "orchestrator:api")


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
