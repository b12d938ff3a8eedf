"""`status` on aws: a live endpoint's state and instance counts, as DescribeEndpoint reports them (moto's server)."""

from __future__ import annotations

from orchestrator.commands.reports import _live_line
from orchestrator.targets.aws import AwsTarget

from .aws_support import make_pipeline, new_client


def create_endpoint(boto, name: str, instances: int) -> None:
    sagemaker = boto["sagemaker"]
    sagemaker.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/orchestrator-sagemaker",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/reviews:1"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": instances,
                "InstanceType": "ml.t2.medium",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def target(account, project) -> AwsTarget:
    steps = {"deploy": {"type": "endpoint", "model": "s3://models/model.tar.gz", "instance": {"type": "ml.t2.medium"}}}
    return AwsTarget(make_pipeline(steps, **account), project, project / ".orchestrator", client=new_client())


def test_a_live_endpoint_reports_its_current_and_desired_instances(account, project, boto):
    create_endpoint(boto, "movie-reviews-deploy", instances=2)
    aws = target(account, project)
    figures = aws.live("endpoint", {"endpoint_name": "movie-reviews-deploy"})
    assert figures == {"endpoint_status": "InService", "instances": 2, "desired_instances": 2}
    assert aws.client.calls == {("DescribeEndpoint", "read"): 1}
    assert _live_line(figures) == "    live: InService, instances 2 (desired 2)"


def test_a_gone_or_unrecorded_endpoint_reports_nothing(account, project):
    aws = target(account, project)
    assert aws.live("endpoint", {"endpoint_name": "movie-reviews-gone"}) is None
    assert aws.live("endpoint", {}) is None
    assert aws.client.calls == {("DescribeEndpoint", "read"): 1}  # nothing recorded: nothing asked


def test_a_serverless_endpoint_has_a_status_and_no_instances():
    assert _live_line({"endpoint_status": "Updating"}) == "    live: Updating"
