"""A web part that moves to another stack (its api's stage changed) leaves the old one."""

from __future__ import annotations

import pytest

from orchestrator.spec.models import ApiStep, Pipeline
from orchestrator.targets.base import Previous, StepFailed

from .handoff_support import (
    CollectingReporter,
    apply,
    context,
    resolved_api,
    resolved_site,
    web_layer,
)

# -- a part that moves to another stack leaves the old one -------------------------------------


def on_stage(pipeline: Pipeline, stage: str) -> tuple[Pipeline, ApiStep]:
    """The same pipeline with the api step's stage changed (as after editing the spec)."""
    moved = pipeline.model_copy(deep=True)
    moved.steps["api"] = moved.steps["api"].model_copy(update={"stage": stage})
    return moved, resolved_api(pipeline).model_copy(update={"stage": stage})


def recorded(stack: str) -> Previous:
    return Previous(fingerprint="a", outputs={}, metrics={}, details={"stack": stack, "backend": "x"}, run_id=1)


def test_api_and_website_moving_to_a_new_stage_leave_the_old_stack(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    apply(layer, "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api"))
    apply(layer, "website", resolved_site(pipeline), context(pipeline, tmp_path, "site", "website"))
    cloud.operations.clear()

    moved, api = on_stage(pipeline, "v2")
    layer = web_layer(moved, tmp_path, cloud)
    reporter = CollectingReporter()
    result = apply(layer, "api", api, context(moved, tmp_path, "api", "api", reporter, previous=recorded("demo-prod")))
    assert result.details["stack"] == "demo-v2"
    assert cloud.operations == [("up", "demo-v2"), ("up", "demo-prod")]
    assert "orchestrator:api" not in cloud.deployed["demo-prod"]["config"]
    assert "orchestrator:website" in cloud.deployed["demo-prod"]["config"]  # the website moves with its own step
    assert reporter.infos == [
        (
            "the api moved from Pulumi stack demo-prod to demo-v2: "
            "removed the api from Pulumi stack demo-prod; the rest of the stack stays"
        )
    ]

    reporter = CollectingReporter()
    result = apply(
        layer,
        "website",
        resolved_site(moved),
        context(moved, tmp_path, "site", "website", reporter, previous=recorded("demo-prod")),
    )
    assert result.details["stack"] == "demo-v2"
    assert cloud.operations[2:] == [("up", "demo-v2"), ("destroy", "demo-prod"), ("remove", "demo-prod")]
    assert set(cloud.deployed) == {"demo-v2"} and "demo-prod" not in cloud.checkout
    assert reporter.infos == [
        "the website moved from Pulumi stack demo-prod to demo-v2: destroyed Pulumi stack demo-prod"
    ]


def test_api_alone_moving_destroys_the_old_stack(pipeline, tmp_path, cloud):
    apply(
        web_layer(pipeline, tmp_path, cloud), "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api")
    )
    moved, api = on_stage(pipeline, "v2")
    cloud.fresh_checkout()  # a CI clone: the old stack's config comes back from its last update
    apply(
        web_layer(moved, tmp_path, cloud),
        "api",
        api,
        context(moved, tmp_path, "api", "api", previous=recorded("demo-prod")),
    )
    assert set(cloud.deployed) == {"demo-v2"}
    assert cloud.operations[-2:] == [("destroy", "demo-prod"), ("remove", "demo-prod")]


def test_same_stack_as_recorded_touches_no_other_stack(pipeline, tmp_path, cloud):
    layer = web_layer(pipeline, tmp_path, cloud)
    reporter = CollectingReporter()
    apply(
        layer,
        "api",
        resolved_api(pipeline),
        context(pipeline, tmp_path, "api", "api", reporter, previous=recorded("demo-prod")),
    )
    assert cloud.operations == [("up", "demo-prod")]
    assert reporter.infos == []


def test_failing_to_leave_the_old_stack_fails_the_step_and_says_so(pipeline, tmp_path, cloud):
    apply(
        web_layer(pipeline, tmp_path, cloud), "api", resolved_api(pipeline), context(pipeline, tmp_path, "api", "api")
    )
    cloud.failing["demo-prod"] = "error: deleting RestApi: AccessDenied"
    moved, api = on_stage(pipeline, "v2")
    with pytest.raises(StepFailed) as caught:
        apply(
            web_layer(moved, tmp_path, cloud),
            "api",
            api,
            context(moved, tmp_path, "api", "api", previous=recorded("demo-prod")),
        )
    assert str(caught.value) == (
        "the api is up in Pulumi stack demo-v2, but removing it from the previous stack demo-prod failed; run again to retry"
    )
    assert caught.value.detail == "error: deleting RestApi: AccessDenied"
    assert caught.value.details == {"stack": "demo-v2", "previous_stack": "demo-prod"}
    assert "api_url" in cloud.deployed["demo-v2"]["outputs"]
