"""The Pulumi program's website under mocks: public and private sites, the config file; odd configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.spec.models import Route, WebsiteStep
from orchestrator.targets.aws.web import stack_config as keys
from orchestrator.targets.website_config import render_config

from .pulumi_support import ProgramRun, make_project, run_program

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"


def site_config(project: Path, website: dict, extra: dict | None = None) -> dict[str, str]:
    step = WebsiteStep.model_validate({"type": "website", "source": "web", **website})
    return {
        "aws:region": "eu-west-1",
        keys.PIPELINE_KEY: "demo",
        keys.PROJECT_DIR_KEY: str(project),
        keys.WEBSITE_KEY: keys.encode(keys.website_document(step)),
        **(extra or {}),
    }


@pytest.fixture(scope="module")
def public_run(project) -> ProgramRun:
    return run_program(project, site_config(project, {"config": {"apiUrl": API_URL}}))


@pytest.fixture(scope="module")
def private_run(project) -> ProgramRun:
    return run_program(
        project,
        site_config(
            project,
            {
                "public": False,
                "config": {"apiUrl": API_URL},
                "config_file": "settings.json",
                "index": "app.html",
            },
        ),
    )


def objects(run: ProgramRun) -> dict[str, dict]:
    return {r["inputs"]["key"]: r["inputs"] for r in run.of_type("BucketObjectv2")}


def test_public_site_outputs(public_run):
    assert public_run.error is None
    bucket = public_run.named("Bucket", "demo-site")["bucket"]  # as the provider names it
    assert bucket.startswith("demo-site-") and len(bucket) == len("demo-site-") + 7
    assert public_run.outputs == {
        "website_url": "http://site-bucket.s3-website-eu-west-1.amazonaws.com",
        "website_bucket": bucket,
    }


def test_website_configuration_has_index_and_error_documents(public_run, private_run):
    public = public_run.named("BucketWebsiteConfiguration", "demo-site")
    assert public["bucket"] == public_run.named("Bucket", "demo-site")["bucket"]
    assert public["indexDocument"] == {"suffix": "index.html"}
    assert public["errorDocument"] == {"key": "error.html"}
    assert private_run.named("BucketWebsiteConfiguration", "demo-site")["indexDocument"] == {"suffix": "app.html"}


def test_site_files_uploaded_with_content_types(public_run, project):
    uploaded = objects(public_run)
    assert set(uploaded) == {"index.html", "error.html", "app.js", "img/logo.svg", "config.js"}
    assert uploaded["index.html"]["contentType"] == "text/html"
    assert uploaded["app.js"]["contentType"] == "application/javascript"
    assert uploaded["img/logo.svg"]["contentType"] == "image/svg+xml"
    assert uploaded["index.html"]["source"] == {"asset": str(project / "web" / "index.html")}


def test_no_dot_files_nor_the_state_folder_are_uploaded(tmp_path):
    """A site served from the spec's folder, with the state in a folder not starting with `.`."""
    project = make_project(tmp_path)
    for name in (
        ".env",
        ".git/config",
        ".orchestrator/state.json",
        "img/.DS_Store",
        "runs/state.json",
        "runs/pulumi/.pulumi/stacks/demo-prod.json",
    ):
        (project / "web" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "web" / name).write_text("SECRET=1")
    config = site_config(project, {"config": {"apiUrl": API_URL}}, {keys.STATE_DIR_KEY: str(project / "web" / "runs")})
    run = run_program(project, config, stack="demo-private")
    assert run.error is None
    assert set(objects(run)) == {"index.html", "error.html", "app.js", "img/logo.svg", "config.js"}


def test_generated_config_replaces_the_placeholder(public_run):
    config = objects(public_run)["config.js"]
    body, content_type = render_config({"apiUrl": API_URL}, "config.js")
    assert config["content"] == body.decode()
    assert config["contentType"] == content_type == "application/javascript"
    assert "source" not in config
    assert config["cacheControl"] == "no-cache"


def test_public_site_allows_only_get_object_on_its_bucket(public_run):
    bucket = public_run.named("Bucket", "demo-site")["bucket"]
    document = json.loads(public_run.named("BucketPolicy", "demo-site")["policy"])
    assert document["Statement"] == [
        {
            "Sid": "PublicReadOfSiteObjects",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    ]
    block = public_run.named("BucketPublicAccessBlock", "demo-site")
    assert block == {
        "bucket": bucket,
        "blockPublicAcls": True,
        "ignorePublicAcls": True,
        "blockPublicPolicy": False,
        "restrictPublicBuckets": False,
    }


def test_private_site_has_no_policy_and_blocks_public_access(private_run):
    assert private_run.error is None
    assert not private_run.of_type("BucketPolicy")
    block = private_run.named("BucketPublicAccessBlock", "demo-site")
    assert block["blockPublicPolicy"] is True and block["restrictPublicBuckets"] is True
    uploaded = objects(private_run)
    assert uploaded["settings.json"]["contentType"] == "application/json"
    assert json.loads(uploaded["settings.json"]["content"]) == {"apiUrl": API_URL}
    assert uploaded["config.js"]["source"]["asset"].endswith("config.js")  # not the config file here


def test_no_api_without_its_config(public_run):
    assert not [t for t in public_run.types() if t in {"RestApi", "Function", "Role"}]


def both_parts(project: Path) -> dict[str, str]:
    """An API with a lambda route (bundle, CORS shim) and a website in one stack's config, written by
    hand as configs were before the api step itself was the config (`endpoint_name`): still read."""
    api = {
        "stage": "prod",
        "cors": {"allow_origins": ["*"]},
        "routes": [
            {"method": "POST", "path": "/invocations", "integration": "direct", "endpoint_name": "ep"},
            {
                "method": "POST",
                "path": "/predict",
                "integration": "lambda",
                "endpoint_name": "ep",
                "handler": "api/handler.py:lambda_handler",
            },
        ],
    }
    return site_config(
        project,
        {"config": {"apiUrl": API_URL}},
        {keys.API_KEY: json.dumps(api), keys.BUILD_DIR_KEY: str(project / "build")},
    )


def test_api_and_website_in_one_stack(project):
    run = run_program(project, both_parts(project))
    assert run.error is None
    assert {"api_url", "route_urls", "website_url", "website_bucket"} <= set(run.outputs)
    assert run.of_type("RestApi") and run.of_type("Bucket") and run.of_type("Function")


def registered(run: ProgramRun) -> list[dict]:
    """The resources in a stable order (the program registers them concurrently)."""
    return sorted(run.resources, key=lambda resource: (resource["type"], resource["name"]))


@pytest.mark.parametrize("entry", ["inline", "by-hand"])
def test_a_run_and_pulumi_up_by_hand_run_the_same_program(project, entry):
    """The callable a run hands to the Automation API and `pulumi/__main__.py` build and export what `build` returns."""
    built = run_program(project, both_parts(project), stack="demo-entries")
    entered = run_program(project, both_parts(project), stack="demo-entries", entry=entry)
    assert entered.error is None
    assert registered(entered) == registered(built)
    assert entered.outputs == built.outputs and "api_url" in entered.outputs


def test_empty_config_builds_nothing(project):
    run = run_program(project, {"aws:region": "eu-west-1", keys.PIPELINE_KEY: "demo"}, stack="demo-empty")
    assert run.error is None
    assert run.resources == [] and run.outputs == {}


def test_unknown_api_key_is_a_clear_error(project):
    bad = {
        "stage": "prod",
        "routes": [{"method": "POST", "path": "/p", "integration": "direct", "endpoint": "ep", "timeout": 3}],
    }
    run = run_program(project, {"aws:region": "eu-west-1", keys.API_KEY: json.dumps(bad)}, stack="demo-bad")
    assert run.error == (
        "SettingsError: orchestrator:api is not an api step: routes[0].timeout: Extra inputs are not permitted "
        f"(route keys: {sorted(Route.model_fields)})"
    )
    assert "'timeout_s'" in run.error  # the key meant is among those named


def test_a_lambda_route_without_a_handler_is_a_clear_error(project):
    bad = {"stage": "prod", "routes": [{"method": "POST", "path": "/p", "integration": "lambda", "endpoint": "ep"}]}
    run = run_program(project, {"aws:region": "eu-west-1", keys.API_KEY: json.dumps(bad)}, stack="demo-bad")
    assert run.error == (
        "SettingsError: orchestrator:api routes[0] is a lambda route without a handler (file.py:function)"
    )


def test_missing_site_folder_is_reported(project):
    run = run_program(project, site_config(project, {"source": "nowhere"}), stack="demo-nosite")
    assert run.error == f"FileNotFoundError: website source folder {project / 'nowhere'} does not exist"


def test_a_bucket_named_by_the_orchestrator_is_not_autonamed(project):
    step = WebsiteStep.model_validate({"type": "website", "source": "web"})
    config = {
        **site_config(project, {}),
        keys.WEBSITE_KEY: keys.encode(keys.website_document(step, "demo-site-0123456789ab")),
    }
    run = run_program(project, config)
    assert run.error is None
    assert run.named("Bucket", "demo-site")["bucket"] == "demo-site-0123456789ab"  # its origin was told before
    assert run.outputs["website_bucket"] == "demo-site-0123456789ab"
