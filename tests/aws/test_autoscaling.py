"""Endpoint autoscaling on aws: Application Auto Scaling against moto's real server.

The variant is registered with the step's min and max and one target-tracking policy on
SageMakerVariantInvocationsPerInstance; a redeploy deregisters it before UpdateEndpoint
and registers it again once the new variant is InService; destroy deregisters it before
DeleteEndpoint. (moto lacks UpdateEndpoint: the wrapper's UpdatingEndpoints fake answers
that one call; every Application Auto Scaling request goes to moto.)
"""

from __future__ import annotations

from typing import Any

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.base import Previous

from .aws_support import BUCKET, UpdatingEndpoints, make_ctx, make_pipeline, new_client

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/reviews:1"
MODEL_A = f"s3://{BUCKET}/models/a/model.tar.gz"
MODEL_B = f"s3://{BUCKET}/models/b/model.tar.gz"
ENDPOINT = "movie-reviews-deploy"
RESOURCE = f"endpoint/{ENDPOINT}/variant/AllTraffic"
POLICY = {
    "min": 1,
    "max": 4,
    "target_invocations_per_instance": 100,
    "scale_in_cooldown_s": 300,
    "scale_out_cooldown_s": 60,
}


class Ordered(UpdatingEndpoints):
    """Records each operation, and whether the variant was registered when UpdateEndpoint/DeleteEndpoint came."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.operations: list[str] = []
        self.registered_at: dict[str, bool] = {}

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation in ("UpdateEndpoint", "DeleteEndpoint"):
            found = super()._invoke(
                "application-autoscaling",
                "DescribeScalableTargets",
                {"ServiceNamespace": "sagemaker", "ResourceIds": [RESOURCE]},
            )
            self.registered_at[operation] = bool(found["ScalableTargets"])
        self.operations.append(operation)
        return super()._invoke(service, operation, params)


def _pipeline(account, **deploy):
    step = {"type": "endpoint", "model": MODEL_A, "image": IMAGE, "instance": {"type": "ml.t2.medium"}, **deploy}
    return make_pipeline({"deploy": step}, **account)


def _apply(target, pipeline, project, fingerprint, model=MODEL_A, previous=None):
    step = pipeline.steps["deploy"].model_copy(update={"model": model})
    ctx = make_ctx(pipeline, "deploy", project, fingerprint=fingerprint, previous=previous)
    return target.apply("endpoint", step, ctx)


def _target(pipeline, project, client):
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=client)
    target.poll_interval_s = 0
    return target


def _previous(result, fingerprint: str) -> Previous:
    return Previous(fingerprint, result.outputs, {}, result.details, 1)


def _scaling(aws_env):
    import boto3

    client = boto3.Session(region_name="us-east-1").client("application-autoscaling")
    targets = client.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    policies = client.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    return targets, policies


def test_a_new_endpoint_gets_its_scalable_target_and_target_tracking_policy(account, project, aws_env):
    pipeline = _pipeline(account, autoscaling=POLICY)
    result = _apply(_target(pipeline, project, new_client(Ordered)), pipeline, project, "a" * 64)
    assert result.message.endswith("; autoscaling 1-4 instances at 100 invocations per instance a minute")
    targets, policies = _scaling(aws_env)
    assert [(t["ResourceId"], t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        (RESOURCE, "sagemaker:variant:DesiredInstanceCount", 1, 4)
    ]
    assert len(policies) == 1
    policy = policies[0]
    assert (policy["PolicyName"], policy["PolicyType"]) == (
        f"{ENDPOINT}-invocations-per-instance",
        "TargetTrackingScaling",
    )
    configuration = policy["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["TargetValue"] == 100.0
    assert configuration["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert (configuration["ScaleInCooldown"], configuration["ScaleOutCooldown"]) == (300, 60)


def test_a_redeploy_deregisters_before_the_update_and_registers_the_new_variant(account, project, aws_env):
    pipeline = _pipeline(account, autoscaling=POLICY)
    client = new_client(Ordered)
    target = _target(pipeline, project, client)
    first = _apply(target, pipeline, project, "a" * 64)
    changed = _pipeline(account, autoscaling={**POLICY, "max": 6, "target_invocations_per_instance": 250})
    _apply(_target(changed, project, client), changed, project, "b" * 64, MODEL_B, _previous(first, "a" * 64))
    operations = client.operations
    update = operations.index("UpdateEndpoint")
    assert "DeregisterScalableTarget" in operations[:update]
    assert operations.index("RegisterScalableTarget", update) > update
    assert client.registered_at["UpdateEndpoint"] is False
    targets, policies = _scaling(aws_env)
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(1, 6)]
    assert [p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies] == [250.0]


def test_destroy_deregisters_before_deleting_the_endpoint(account, project, aws_env):
    pipeline = _pipeline(account, autoscaling=POLICY)
    client = new_client(Ordered)
    target = _target(pipeline, project, client)
    first = _apply(target, pipeline, project, "a" * 64)
    ctx = make_ctx(pipeline, "deploy", project, fingerprint="a" * 64, previous=_previous(first, "a" * 64))
    sentence = target.destroy("endpoint", ctx)
    assert sentence.startswith(f"Deleted the autoscaling of {ENDPOINT}, endpoint {ENDPOINT}")
    assert client.registered_at["DeleteEndpoint"] is False
    assert client.operations.index("DeregisterScalableTarget") < client.operations.index("DeleteEndpoint")
    assert _scaling(aws_env) == ([], [])


def test_autoscaling_dropped_from_the_spec_is_deregistered_and_none_asked_none_called(account, project, aws_env):
    pipeline = _pipeline(account, autoscaling=POLICY)
    client = new_client(Ordered)
    first = _apply(_target(pipeline, project, client), pipeline, project, "a" * 64)
    plain = _pipeline(account)
    second = _apply(_target(plain, project, client), plain, project, "b" * 64, MODEL_B, _previous(first, "a" * 64))
    assert second.details["autoscaling"] == "autoscaling removed"
    assert _scaling(aws_env) == ([], [])
    client.operations.clear()
    _apply(_target(plain, project, client), plain, project, "c" * 64, MODEL_A, _previous(second, "b" * 64))
    assert not [op for op in client.operations if "Scal" in op]
