"""Endpoint autoscaling on aws: Application Auto Scaling on the endpoint's production variant.

The variant is registered as a scalable target (its DesiredInstanceCount between min and
max) with one target-tracking policy on SageMakerVariantInvocationsPerInstance
(invocations per instance per minute). SageMaker refuses to update or delete an endpoint
whose variant is registered, so the target is deregistered before either and registered
again once the new variant is InService
(https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-delete.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-add-code-register.html).
"""

from __future__ import annotations

from typing import Any

from ...spec.models import Autoscaling
from ..base import StepContext
from .client import AwsClient

SERVICE = "application-autoscaling"
NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"
VARIANT = "AllTraffic"


def resource_id(endpoint: str, variant: str = VARIANT) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def policy_name(endpoint: str) -> str:
    """One policy per endpoint; Application Auto Scaling allows 256 characters (endpoint names have 63)."""
    return f"{endpoint}-invocations-per-instance"


def registered(client: AwsClient, endpoint: str) -> bool:
    found = client.call(
        SERVICE,
        "DescribeScalableTargets",
        ServiceNamespace=NAMESPACE,
        ResourceIds=[resource_id(endpoint)],
        ScalableDimension=DIMENSION,
    )
    return bool(found.get("ScalableTargets"))


def register(client: AwsClient, endpoint: str, policy: Autoscaling) -> str:
    """Register the variant and put its target-tracking policy (both calls are idempotent); a sentence."""
    target = {"ServiceNamespace": NAMESPACE, "ResourceId": resource_id(endpoint), "ScalableDimension": DIMENSION}
    client.call(SERVICE, "RegisterScalableTarget", **target, MinCapacity=policy.min, MaxCapacity=policy.max)
    configuration: dict[str, Any] = {
        "TargetValue": float(policy.target_invocations_per_instance),
        "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC},
        "ScaleInCooldown": policy.scale_in_cooldown_s,
        "ScaleOutCooldown": policy.scale_out_cooldown_s,
    }
    client.call(
        SERVICE,
        "PutScalingPolicy",
        PolicyName=policy_name(endpoint),
        **target,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=configuration,
    )
    return (
        f"autoscaling {policy.min}-{policy.max} instances at {policy.target_invocations_per_instance} "
        "invocations per instance a minute"
    )


def deregister(client: AwsClient, endpoint: str) -> bool:
    """Remove the variant's policies and its scalable target, if registered; True when there was one."""
    if not registered(client, endpoint):
        return False
    target = {"ServiceNamespace": NAMESPACE, "ResourceId": resource_id(endpoint), "ScalableDimension": DIMENSION}
    policies = client.call(SERVICE, "DescribeScalingPolicies", **target).get("ScalingPolicies", [])
    for found in policies:
        client.call(SERVICE, "DeleteScalingPolicy", PolicyName=found["PolicyName"], **target)
    client.call(SERVICE, "DeregisterScalableTarget", **target)
    return True


def recorded(ctx: StepContext) -> bool:
    """Did the last deploy of this step register autoscaling (its details say so)?"""
    return bool(ctx.previous and ctx.previous.details.get("autoscaling") not in (None, "autoscaling removed"))


def follow(client: AwsClient, endpoint: str, policy: Autoscaling | None, released: bool = False) -> str | None:
    """After a deploy: the policy the spec asks for, or none; a sentence when something was set or removed.

    `released`: the deploy deregistered the old variant before updating it."""
    if policy is not None:
        return register(client, endpoint, policy)
    return "autoscaling removed" if deregister(client, endpoint) or released else None
