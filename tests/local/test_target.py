"""LocalTarget end to end: deploy, API, website, probe, destroy; preflight; a light import."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from orchestrator.spec.loader import load_file
from orchestrator.spec.models import Pipeline
from orchestrator.targets.base import (
    Previous,
    StepContext,
    StepFailed,
    StepResult,
    TargetError,
)
from orchestrator.targets.local import LocalTarget
from orchestrator.targets.local.daemon.client import pid_alive

from .conftest import stop_daemon
from .test_protocol import OLD_NOTICE, version_1_record


def make_pipeline(files, **overrides) -> Pipeline:
    steps = {
        "deploy": {"type": "endpoint", "model": files["model_v1"].as_uri(), "instance": {"type": "ml.t2.medium"}},
        "api": {
            "type": "api",
            "cors": {"allow_origins": ["*"]},
            "routes": [
                {
                    "method": "POST",
                    "path": "/predict",
                    "integration": "lambda",
                    "handler": "api/handlers.py:predict",
                    "endpoint": "demo-deploy",
                },
                {"method": "POST", "path": "/invocations", "integration": "direct", "endpoint": "demo-deploy"},
            ],
        },
        "site": {"type": "website", "source": "web", "config": {"apiUrl": "http://127.0.0.1:1/prod"}},
    }
    steps.update(overrides)
    return Pipeline.model_validate({"name": "demo", "steps": steps})


@pytest.fixture
def target(files, tmp_path):
    made = []

    def build(pipeline: Pipeline) -> LocalTarget:
        made.append(LocalTarget(pipeline, files["root"], tmp_path / ".orchestrator"))
        return made[-1]

    yield build
    for item in made:
        stop_daemon(item.client)


def context(target: LocalTarget, step: str, kind: str, previous: StepResult | None = None) -> StepContext:
    recorded = Previous("f" * 8, previous.outputs, {}, {}, 1) if previous else None
    return StepContext(
        pipeline=target.pipeline,
        step=step,
        kind=kind,
        run_id=1,
        fingerprint="f" * 8,
        project_dir=target.project_dir,
        state_dir=target.state_dir,
        previous=recorded,
        upstream={},
    )


def test_deploy_api_website_then_destroy_leaves_nothing_running(target, files):
    local = target(make_pipeline(files))
    steps = local.pipeline.steps
    deployed = local.apply("endpoint", steps["deploy"], context(local, "deploy", "endpoint"))
    assert deployed.outputs["endpoint_name"] == "demo-deploy"
    assert deployed.outputs["model"] == files["model_v1"].as_uri()
    port = deployed.details["port"]
    assert deployed.outputs["url"] == f"http://127.0.0.1:{port}/endpoints/demo-deploy/invocations"
    api = local.apply("api", steps["api"], context(local, "api", "api"))
    assert api.outputs == {"url": f"http://127.0.0.1:{api.details['port']}/prod", "api_id": "demo-api"}
    site = local.apply("website", steps["site"], context(local, "site", "website"))
    site_port = site.details["port"]
    assert site.outputs == {
        "url": f"http://127.0.0.1:{site_port}/",
        "bucket": "demo-site",
        "origin": f"http://127.0.0.1:{site_port}",  # what a browser sends as Origin: no path
    }

    with httpx.Client(timeout=30) as http:
        assert http.post(deployed.outputs["url"], json={"instances": [[3]]}).json() == {"predictions": [1]}
        assert http.post(api.outputs["url"] + "/predict", json={"instances": [[0]]}).json() == {"predictions": [0]}
        assert "window.APP_CONFIG" in http.get(site.outputs["url"] + "config.js").text
    for kind, result in (("endpoint", deployed), ("api", api), ("website", site)):
        assert local.probe(kind, result.outputs) is True

    pid = local.client.info()["pid"]
    assert local.destroy("website", context(local, "site", "website", site)) == "website demo-site removed"
    assert local.destroy("api", context(local, "api", "api", api)) == "API demo-api removed"
    assert local.destroy("endpoint", context(local, "deploy", "endpoint", deployed)) == "endpoint demo-deploy removed"
    assert not pid_alive(pid)
    assert local.client.info() is None
    for kind, result in (("endpoint", deployed), ("api", api), ("website", site)):
        assert local.probe(kind, result.outputs) is False
    assert (
        local.destroy("endpoint", context(local, "deploy", "endpoint", deployed))
        == "endpoint demo-deploy was already gone"
    )
    assert (
        local.destroy("endpoint", context(local, "deploy", "endpoint")) == "endpoint demo-deploy: nothing was deployed"
    )


def test_destroy_without_a_record_removes_what_an_interrupted_run_left(target, files):
    """A run killed mid-deploy recorded no outputs: destroy finds the services by their spec names."""
    local = target(
        make_pipeline(files, deploy={"type": "endpoint", "model": files["model_v1"].as_uri(), "endpoint_name": "Named"})
    )
    steps = local.pipeline.steps
    deployed = local.apply("endpoint", steps["deploy"], context(local, "deploy", "endpoint"))
    api = local.apply("api", steps["api"], context(local, "api", "api"))
    site = local.apply("website", steps["site"], context(local, "site", "website"))
    pid = local.client.info()["pid"]
    assert set(local.client.status()["services"]["endpoints"]) == {"Named"}

    assert local.destroy("endpoint", context(local, "deploy", "endpoint")) == "endpoint Named removed"
    assert set(local.client.status()["services"]["endpoints"]) == set()
    assert local.probe("endpoint", deployed.outputs) is False
    assert local.destroy("api", context(local, "api", "api")) == "API demo-api removed"
    assert local.destroy("website", context(local, "site", "website")) == "website demo-site removed"
    assert not pid_alive(pid)
    assert local.probe("api", api.outputs) is False
    assert local.probe("website", site.outputs) is False
    assert local.destroy("endpoint", context(local, "deploy", "endpoint")) == "endpoint Named: nothing was deployed"
    assert local.destroy("api", context(local, "api", "api")) == "API demo-api: nothing was deployed"
    assert local.destroy("website", context(local, "site", "website")) == "website demo-site: nothing was deployed"


def test_destroy_with_the_daemon_down_removes_the_record_so_nothing_comes_back(target, files):
    local = target(make_pipeline(files))
    steps = local.pipeline.steps
    deployed = local.apply("endpoint", steps["deploy"], context(local, "deploy", "endpoint"))
    api = local.apply("api", steps["api"], context(local, "api", "api"))
    site = local.apply("website", steps["site"], context(local, "site", "website"))
    pid = local.client.info()["pid"]
    os.kill(pid, signal.SIGKILL)
    assert local.client.wait_stopped(pid, 5)

    down = "(the local cloud was not running; its record is deleted so it will not come back)"
    assert local.destroy("website", context(local, "site", "website", site)) == f"website demo-site removed {down}"
    assert local.destroy("api", context(local, "api", "api", api)) == f"API demo-api removed {down}"
    assert local.destroy("endpoint", context(local, "deploy", "endpoint")) == f"endpoint demo-deploy removed {down}"
    record = json.loads(local.client.home.state_file.read_text())
    assert {kind: record[kind] for kind in ("endpoints", "apis", "websites")} == {
        "endpoints": {},
        "apis": {},
        "websites": {},
    }
    assert local.destroy("endpoint", context(local, "deploy", "endpoint", deployed)) == (
        "endpoint demo-deploy was already gone"
    )

    local.client.ensure_running()  # a later run starts the local cloud again: it must not replay the old services
    assert local.client.status()["services"] == {"endpoints": {}, "apis": {}, "websites": {}}
    for kind, result in (("endpoint", deployed), ("api", api), ("website", site)):
        assert local.probe(kind, result.outputs) is False


def test_destroy_before_anything_ran_creates_nothing(target, files):
    local = target(make_pipeline(files))
    assert local.destroy("website", context(local, "site", "website")) == "website demo-site: nothing was deployed"
    assert not local.client.home.root.exists()


def test_custom_images_are_refused_in_preflight(target, files):
    pipeline = make_pipeline(files, deploy={"type": "endpoint", "model": "model.tar.gz", "image": "123.dkr.ecr/x:1"})
    with pytest.raises(TargetError) as caught:
        target(pipeline).preflight({"endpoint", "api", "website"})
    assert str(caught.value) == (
        "step 'deploy' uses a custom image (123.dkr.ecr/x:1), which needs Docker; "
        "the local target runs scripts without containers"
    )
    assert caught.value.hint == "use framework: or algorithm: for local runs, or run this pipeline with target: aws"
    target(pipeline).preflight({"api", "website"})  # only the kinds that will run are checked


def test_step_errors_say_what_is_missing(target, files):
    local = target(
        make_pipeline(
            files,
            deploy={"type": "endpoint", "model": "s3://bucket/model.tar.gz"},
            other={"type": "endpoint", "model": "model-v1.tar.gz", "inference": "models/none.py"},
            api={
                "type": "api",
                "routes": [
                    {
                        "method": "GET",
                        "path": "/x",
                        "integration": "lambda",
                        "handler": "api/missing.py:handler",
                        "endpoint": "e",
                    }
                ],
            },
            site={"type": "website", "source": "no-such-folder"},
        )
    )
    steps = local.pipeline.steps
    cases = [
        (
            lambda: local.apply("endpoint", steps["deploy"], context(local, "deploy", "endpoint")),
            "the model s3://bucket/model.tar.gz is not in the local S3",
        ),
        (
            lambda: local.apply("endpoint", steps["other"], context(local, "other", "endpoint")),
            "inference module not found: models/none.py",
        ),
        (
            lambda: local.apply("api", steps["api"], context(local, "api", "api")),
            "lambda handler file not found for GET /x: api/missing.py",
        ),
        (
            lambda: local.apply("website", steps["site"], context(local, "site", "website")),
            "website source folder not found: no-such-folder",
        ),
    ]
    for call, message in cases:
        with pytest.raises(StepFailed) as caught:
            call()
        assert str(caught.value) == message
    assert local.client.info() is None  # nothing was started for steps that could not run


def test_a_model_the_daemon_cannot_load_fails_the_step(target, files):
    local = target(make_pipeline(files, deploy={"type": "endpoint", "model": files["transform_model"].as_uri()}))
    with pytest.raises(StepFailed) as caught:
        local.apply("endpoint", local.pipeline.steps["deploy"], context(local, "deploy", "endpoint"))
    assert str(caught.value) == "deploying endpoint demo-deploy failed on the local target"
    assert caught.value.detail.startswith("no model file in the archive")


def test_importing_the_target_stays_light():
    heavy = "{'starlette', 'uvicorn', 'sklearn', 'boto3', 'httpx', 'numpy'}"
    code = f"import sys, orchestrator.targets.local; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert out.strip() == "[]"


class Collecting:
    def __init__(self):
        self.warnings: list[str] = []

    def log(self, line): ...
    def status(self, text): ...
    def info(self, text): ...

    def warn(self, text):
        self.warnings.append(text)


UNEMULATED_SPEC = """\
name: demo
steps:
  api:
    type: api
    api_key: {}
    routes:
      - method: GET
        path: /x
        integration: lambda
        handler: api/handlers.py:echo
        endpoint: e
        requirements: api/requirements.txt
  site:
    type: website
    source: web
    public: false
"""
UNEMULATED_WARNINGS = [  # in the spec's order, as the commands print them (API keys are enforced locally now)
    "pipeline.yaml:16:5: warning: steps.site.public: public: false has no local effect: the local website is "
    "reachable from this machine only",
]


def unemulated_project(files, tmp_path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(files["root"] / "api", project / "api")
    shutil.copytree(files["root"] / "web", project / "web")
    (project / "api" / "requirements.txt").write_text("python-slugify\n")
    (project / "pipeline.yaml").write_text(UNEMULATED_SPEC)
    return project


def test_what_the_local_api_does_not_emulate_is_said_where_the_spec_says_it(target, files, tmp_path):
    project = unemulated_project(files, tmp_path)
    doc = load_file(project / "pipeline.yaml", display="pipeline.yaml")
    local = target(Pipeline.model_validate(doc.data))
    warnings = sorted(local.check(doc), key=lambda d: (d.line, d.col))
    assert [d.render() for d in warnings] == UNEMULATED_WARNINGS

    reporter = Collecting()  # said once, by check: running the steps adds no warning of its own
    for step, kind in (("api", "api"), ("site", "website")):
        ctx = dataclasses.replace(context(local, step, kind), project_dir=project, reporter=reporter)
        local.apply(kind, local.pipeline.steps[step], ctx)
    assert reporter.warnings == []


def test_validate_prints_the_local_targets_warnings_located_and_succeeds(files, tmp_path):
    project = unemulated_project(files, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "validate", "pipeline.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "".join(f"{warning}\n" for warning in UNEMULATED_WARNINGS)


def test_the_next_deploy_says_what_the_local_cloud_could_not_restore(target, files):
    local = target(make_pipeline(files))
    local.home.mkdir(parents=True)
    local.client.home.state_file.write_text(json.dumps(version_1_record(files, 1)))
    reporter = Collecting()
    ctx = dataclasses.replace(context(local, "site", "website"), reporter=reporter)
    local.apply("website", local.pipeline.steps["site"], ctx)
    assert reporter.warnings == [OLD_NOTICE]


CHECKED_SPEC = """\
name: demo
steps:
  train:
    type: training
    framework: sklearn
    entry_point: train.py
    inputs:
      train: s3://raw-data/reviews/
  api:
    type: api
    routes:
      - method: GET
        path: /x
        integration: lambda
        handler: api/handlers.py:echo
        endpoint: e
        runtime: python3.9
"""


def test_the_plan_names_a_missing_s3_input_and_a_runtime_other_than_this_python(target, files, tmp_path):
    project = tmp_path / "checked"
    project.mkdir()
    (project / "train.py").write_text("")
    (project / "pipeline.yaml").write_text(CHECKED_SPEC)
    doc = load_file(project / "pipeline.yaml", display="pipeline.yaml")
    local = target(Pipeline.model_validate(doc.data))
    found = sorted(local.check(doc), key=lambda d: (d.line, d.col))
    local_python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert [(d.severity, d.render()) for d in found] == [
        (
            "error",
            "pipeline.yaml:8:14: error: steps.train.inputs.train: no object in the local S3 at s3://raw-data/reviews/\n"
            "  hint: bucket 'raw-data', key 'reviews/': put it there with boto3 or the AWS CLI against the local "
            "cloud's S3, or name a file beside the spec",
        ),
        (
            "warning",
            "pipeline.yaml:17:9: warning: steps.api.routes[0].runtime: runtime python3.9: the local Lambda runs this "
            f"machine's Python ({local_python}), with its standard library and compiled wheels\n"
            f"  hint: run the orchestrator with Python 3.9 to match, or set runtime: {local_python}",
        ),
    ]
    with pytest.raises(TargetError) as caught:
        local.data_digests(["s3://raw-data/reviews/"])
    assert str(caught.value) == "no object in the local S3 at s3://raw-data/reviews/"
