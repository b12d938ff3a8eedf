"""An api step's access log needs the account's API Gateway CloudWatch role: preflight reads it (GetAccount,
on moto's server) and, without one, deploys the stage without access logging and says how to turn it on."""

from __future__ import annotations

import json

import boto3

from orchestrator.targets.aws import AwsTarget

from ..pulumi.fake_pulumi import FakeCloud
from .aws_support import REGION, Recorder, make_ctx, make_pipeline, new_client

API = {
    "type": "api",
    "routes": [{"method": "POST", "path": "/p", "integration": "direct", "endpoint": "movie-reviews-deploy"}],
}


def deploy_api(account, project) -> tuple[AwsTarget, dict]:
    """Preflight, then apply the api step; returns the target and the `orchestrator:api` it wrote."""
    cloud = FakeCloud()
    pipeline = make_pipeline({"api": API}, **account)
    target = AwsTarget(
        pipeline, project, project / ".orchestrator", Recorder(), client=new_client(), stack_factory=cloud.factory
    )
    target.preflight({"api"})
    target.apply("api", pipeline.steps["api"], make_ctx(pipeline, "api", project, fingerprint="a" * 64))
    return target, json.loads(cloud.checkout["movie-reviews-prod"]["orchestrator:api"])


def test_without_the_accounts_cloudwatch_role_the_stage_goes_up_without_an_access_log(account, project):
    target, written = deploy_api(account, project)
    assert written["access_log"] is False
    assert target.client.calls[("GetAccount", "read")] == 1
    assert target.reporter.of("warn") == [
        f"API Gateway has no CloudWatch Logs role in {REGION} for this account, so stage prod of api api is "
        "deployed without an access log (`orchestrator logs` shows its functions' logs only). To log access, set "
        "one once per Region: a role apigateway.amazonaws.com may assume with the "
        "AmazonAPIGatewayPushToCloudWatchLogs permissions, then `aws apigateway update-account --patch-operations "
        "op=replace,path=/cloudwatchRoleArn,value=<role-arn>`, then `run --force api` (an unchanged api step is "
        "not deployed again by itself)."
    ]


def test_with_the_accounts_cloudwatch_role_the_stage_logs_access(account, project):
    role = account["role_arn"]  # any role will do for moto; AWS checks API Gateway may assume it
    boto3.client("apigateway", region_name=REGION).update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
    )
    target, written = deploy_api(account, project)
    assert "access_log" not in written  # the program's default: on
    assert target.reporter.of("warn") == []
