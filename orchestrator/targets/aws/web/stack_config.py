"""The stack config the hand-off writes: the one contract between a run and the Pulumi program.

Pure functions of the (resolved) spec, so a person who runs `pulumi up` by hand
with these values gets the same result. Keep the key names in step with
`program/settings.py` and `pulumi/README.md`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ....spec.models import ApiStep, Pipeline, WebsiteStep
from ....spec.service_checks import REFERENCE
from ...lambda_bundle import private_folders

REGION_KEY = "aws:region"
PROFILE_KEY = "aws:profile"
PIPELINE_KEY = "orchestrator:pipeline"
PROJECT_DIR_KEY = "orchestrator:projectDir"
BUILD_DIR_KEY = "orchestrator:buildDir"
STATE_DIR_KEY = "orchestrator:stateDir"
PRIVATE_FOLDERS_KEY = "orchestrator:privateFolders"  # what no lambda bundle ships (the shared file rule)
ARTIFACT_BUCKET_KEY = "orchestrator:artifactBucket"  # bundles over 50 MB reach Lambda through S3
ARTIFACT_PREFIX_KEY = "orchestrator:artifactPrefix"
API_KEY = "orchestrator:api"
# In the api key beside the step: false when the account cannot log a stage's access (no CloudWatch role).
ACCESS_LOG_SETTING = "access_log"
# Route environments may hold secrets (`${env:...}`): a key of their own, written as a Pulumi secret.
API_ENVIRONMENT_KEY = "orchestrator:apiEnvironment"
WEBSITE_KEY = "orchestrator:website"
PART_KEYS = (API_KEY, WEBSITE_KEY)  # a part (a web step's share of the stack) is in a stack when its key is set
DEFAULT_STAGE = "prod"


def stack_name(pipeline: Pipeline, stage: str) -> str:
    """One stack per pipeline and stage."""
    return f"{pipeline.name}-{stage}"


def website_stage(pipeline: Pipeline) -> str:
    """A website joins the stack of the pipeline's (first) API, so one stack holds the web layer."""
    for step in pipeline.steps.values():
        if isinstance(step, ApiStep):
            return step.stage
    return DEFAULT_STAGE


def common_config(pipeline: Pipeline, project_dir: Path, build_dir: Path, state_dir: Path) -> dict[str, str]:
    """Keys every stack of the pipeline carries, whichever part is applied."""
    config = {
        REGION_KEY: pipeline.region,
        PIPELINE_KEY: pipeline.name,
        PROJECT_DIR_KEY: str(project_dir.resolve()),
        BUILD_DIR_KEY: str(build_dir.resolve()),
        STATE_DIR_KEY: str(state_dir.resolve()),  # never uploaded with a website
    }
    if pipeline.aws.profile:
        config[PROFILE_KEY] = pipeline.aws.profile
    if pipeline.aws.bucket:
        config[ARTIFACT_BUCKET_KEY] = pipeline.aws.bucket
        config[ARTIFACT_PREFIX_KEY] = pipeline.aws.prefix
    folders = {
        str(folder)
        for name, step in pipeline.steps.items()
        if isinstance(step, ApiStep)
        for folder in private_folders(pipeline, project_dir.resolve(), state_dir.resolve(), name)
    }
    config[PRIVATE_FOLDERS_KEY] = json.dumps(sorted(folders))
    return config


def api_document(step: ApiStep) -> dict[str, Any]:
    """`orchestrator:api`: the api step itself, references resolved, in the spec's own shape.

    The program validates it with the spec's model and compiles the API document from it, so
    the aws API is the document `export openapi` prints and the local gateway serves. Route
    environments keep only their references (names, not values: the function reads them at init,
    with read access to just those); the values go to `orchestrator:apiEnvironment`, a secret.
    """
    document = step.model_dump(mode="json")
    for route in document["routes"]:
        route["environment"] = {k: v for k, v in route["environment"].items() if REFERENCE.match(v)}
    return document


def api_environment(step: ApiStep) -> dict[str, dict[str, str]]:
    """`orchestrator:apiEnvironment`: each route's variables by `METHOD /path` (references are in the
    api document instead); routes without any left out."""
    environments = {
        f"{route.method} {route.path}": {k: v for k, v in route.environment.items() if not REFERENCE.match(v)}
        for route in step.routes
    }
    return {route: variables for route, variables in environments.items() if variables}


def website_document(step: WebsiteStep, bucket: str | None = None) -> dict[str, Any]:
    """`orchestrator:website`: config values arrive resolved (e.g. the API's URL); the bucket's name
    when the orchestrator chose it (its origin was told before the site existed), else Pulumi's."""
    document = {
        "source": step.source,
        "index": step.index,
        "error": step.error,
        "public": step.public,
        "config": dict(step.config),
        "config_file": step.config_file,
    }
    return {**document, "bucket": bucket} if bucket else document


def encode(document: dict[str, Any]) -> str:
    """Stable JSON, so an unchanged step writes byte-identical config."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
