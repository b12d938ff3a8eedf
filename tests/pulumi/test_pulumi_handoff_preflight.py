"""Before anything is spent: the CLI, the stages, and the program the stacks run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from orchestrator.targets.aws.web import automation
from orchestrator.targets.aws.web import program as packaged
from orchestrator.targets.aws.web.handoff import WebLayer, packaged_program
from orchestrator.targets.base import TargetError

from .handoff_support import (
    apply,
    context,
    make_pipeline,
    resolved_api,
    web_layer,
)


def test_preflight_without_the_cli_says_how_to_install_it(pipeline, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    layer = WebLayer(pipeline, tmp_path, tmp_path / "state")
    with pytest.raises(TargetError) as caught:
        layer.preflight()
    assert str(caught.value) == (
        "The Pulumi CLI is not installed: target aws needs `pulumi` on PATH to provision the API and website."
    )
    assert caught.value.hint == (
        "Install it with `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi`; "
        "see https://www.pulumi.com/docs/install/), open a new shell so `pulumi version` works, then run again."
    )


def test_real_automation_api_without_the_cli_is_the_same_error(pipeline, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    layer = WebLayer(pipeline, tmp_path, tmp_path / "state")
    with pytest.raises(TargetError) as caught:
        apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert str(caught.value) == automation.CLI_MISSING_MESSAGE
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_preflight_with_a_stand_in_stack_needs_no_cli(pipeline, tmp_path, cloud, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    web_layer(pipeline, tmp_path, cloud).preflight()


def test_preflight_rejects_two_apis_on_one_stage(tmp_path, cloud):
    second = {
        "type": "api",
        "stage": "prod",
        "routes": [{"method": "POST", "path": "/x", "integration": "direct", "endpoint": "ep"}],
    }
    layer = web_layer(make_pipeline(admin=second), tmp_path, cloud)
    with pytest.raises(TargetError, match="Several api steps use stage 'prod'"):
        layer.preflight()


# -- finding the program ---------------------------------------------------------------------------


def test_the_program_is_the_one_in_the_installed_package():
    """No folder beside the package is needed: a regular install (site-packages) provisions the API too."""
    program = packaged_program()
    assert program is packaged.main
    package_dir = Path(packaged.__file__).parent
    assert Path(sys.modules[program.__module__].__file__).parent == package_dir
    assert package_dir.parts[-5:] == ("orchestrator", "targets", "aws", "web", "program")


class WithoutPulumiAws:
    """An import system on which pulumi-aws is not installed (what `pip install 'orchestrator[aws]'` gives)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pulumi_aws":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def test_a_missing_pulumi_aws_is_a_clear_preflight_error(pipeline, tmp_path, cloud, monkeypatch):
    for name in [name for name in sys.modules if name.split(".")[0] == "pulumi_aws"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [WithoutPulumiAws(), *sys.meta_path])
    layer = web_layer(pipeline, tmp_path, cloud)
    with pytest.raises(TargetError) as caught:
        layer.preflight()
    assert str(caught.value) == (
        "The pulumi Python packages are not installed: target aws needs them for the API and website."
    )
    assert caught.value.hint == "pip install 'orchestrator[pulumi]'  (pulumi and pulumi-aws v7)"
    with pytest.raises(TargetError):
        apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert cloud.opened == []


def test_an_explicit_program_is_handed_to_the_stacks(pipeline, tmp_path, cloud):
    def program():
        """Another Pulumi program (e.g. a team's own web layer)."""

    project = tmp_path / "project"
    layer = WebLayer(pipeline, project, project / ".orchestrator", stack_factory=cloud.factory, program=program)
    layer.preflight()
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    assert cloud.opened[0][1] is program


# -- the stacks themselves, before anything is spent ------------------------------------------------


def test_preflight_opens_each_stack_the_run_touches_and_reads_its_config(pipeline, tmp_path, cloud):
    """Opening a stack reaches the backend; reading its config decrypts it (a wrong passphrase fails there)."""
    layer = web_layer(pipeline, tmp_path, cloud)
    layer.preflight(["demo-prod", "demo-prod"])
    assert [name for name, *_ in cloud.opened] == ["demo-prod"]
    assert cloud.config_reads == ["demo-prod"]


def test_a_stack_pulumi_cannot_open_fails_preflight_with_what_pulumi_said(pipeline, tmp_path, cloud):
    cloud.unreadable["demo-prod"] = "error: incorrect passphrase"
    with pytest.raises(TargetError) as caught:
        web_layer(pipeline, tmp_path, cloud).preflight(["demo-prod"])
    assert str(caught.value) == "pulumi config failed for stack demo-prod"
    assert caught.value.hint.startswith("error: incorrect passphrase\nCheck that the Pulumi backend is reachable")


def test_with_state_in_s3_the_pulumi_backend_is_beside_it(tmp_path, cloud):
    """A CI runner's disk is gone by the next run: its stacks must be where the next run finds them."""
    pipeline = make_pipeline().model_copy(update={"state": "s3://team-state/ml"})
    layer = web_layer(pipeline, tmp_path, cloud)
    assert layer.backend_url == "s3://team-state/ml/demo/pulumi?region=eu-west-1"  # the state is .../ml/demo/state.json
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    [(_, _, _, env)] = cloud.opened
    assert env["PULUMI_BACKEND_URL"] == "s3://team-state/ml/demo/pulumi?region=eu-west-1"
    assert not (tmp_path / "project" / ".orchestrator" / "pulumi").exists()
    configured = make_pipeline(backend="s3://elsewhere/pulumi").model_copy(update={"state": "s3://team-state/ml"})
    assert web_layer(configured, tmp_path, cloud).backend_url == "s3://elsewhere/pulumi"
