"""An endpoint step: a SageMaker model, a new endpoint config per model, one endpoint.

A new model goes live through `update_endpoint` with a new config, which SageMaker
swaps in with no downtime; if that update fails, SageMaker keeps the old config
serving and we say so. SageMaker cannot update an endpoint between instance and
serverless hosting: that change replaces the endpoint (delete, wait until gone,
create). Names derive from the step fingerprint, so repeating a deployment finds
what exists and changes nothing.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ...spec.instance_types import hosting_types
from ...spec.models import EndpointStep, TrainingStep
from ...spec.names import endpoint_name, leftover_owner
from ..base import StepContext, StepFailed, StepResult
from . import autoscaling, images
from .model_code import CODE_DIR, REPACKED_FRAMEWORKS, repack_model
from .naming import (
    owned_by,
    ownership_tags,
    resource_name,
    resource_prefix,
)
from .partitions import dns_suffix
from .preflight import instance_type_problems
from .sagemaker_step import SageMakerHandler
from .uploads import upload_source_dir

if TYPE_CHECKING:
    from .client import AwsClient
    from .preflight import Problem

TRANSITIONAL = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
DEFAULT_INSTANCE = "ml.m5.large"


def invocation_url(region: str, name: str) -> str:
    return f"https://runtime.sagemaker.{region}.{dns_suffix(region)}/endpoints/{name}/invocations"


def _training_step_of(step: EndpointStep, ctx: StepContext) -> TrainingStep | None:
    """The pipeline's training step whose model this endpoint serves, if any (a tuning step's training too)."""
    for name, outputs in ctx.upstream.items():
        candidate = ctx.pipeline.steps.get(name)
        trained = candidate if isinstance(candidate, TrainingStep) else getattr(candidate, "training", None)
        if isinstance(trained, TrainingStep) and outputs.get("model") == step.model:
            return trained
    return None


def serving_framework(step: EndpointStep, ctx: StepContext) -> str | None:
    """The framework whose container serves the model: the step's, or its training step's."""
    if step.image:
        return None
    trained = _training_step_of(step, ctx)
    return step.framework or (trained.framework if trained and not trained.image else None)


def serving_image(step: EndpointStep, ctx: StepContext) -> str:
    """The step's image, its framework's inference image, or the one matching how the model was trained."""
    region = ctx.pipeline.region
    # Serverless endpoints run on CPUs: their framework image is the CPU one of a default instance.
    instance = step.instance.type if step.instance else DEFAULT_INSTANCE
    if step.image:
        return step.image
    if step.framework:
        return images.framework_image(step.framework, step.framework_version, region, instance, scope="inference")
    trained = _training_step_of(step, ctx)
    if trained is not None:
        if trained.image:
            return trained.image
        if trained.algorithm:
            return images.algorithm_image(trained.algorithm, region)
        if trained.framework:
            return images.framework_image(
                trained.framework, trained.framework_version, region, instance, scope="inference"
            )
    raise StepFailed(
        f"Endpoint step {ctx.step} needs `image:` or `framework:`.",
        "Its model does not come from a training step of this pipeline, so the serving image cannot be inferred.",
    )


def _container(client: AwsClient, step: EndpointStep, ctx: StepContext) -> dict[str, Any]:
    aws = ctx.pipeline.aws
    environment = dict(step.environment)
    model_data = step.model
    if step.inference:
        handler = ctx.path(step.inference)
        if not handler.is_file():
            raise StepFailed(f"inference handler {step.inference} does not exist.")
        assert aws.bucket is not None
        framework = serving_framework(step, ctx)
        if framework in REPACKED_FRAMEWORKS:  # these containers read the handler from model.tar.gz/code/ only
            assert framework is not None
            model_data = repack_model(client, aws.bucket, aws.prefix, step.model, handler, framework)
            code = CODE_DIR
        else:
            code = upload_source_dir(client, aws.bucket, aws.prefix, handler.parent)
        environment.update(
            SAGEMAKER_PROGRAM=handler.name, SAGEMAKER_SUBMIT_DIRECTORY=code, SAGEMAKER_REGION=ctx.pipeline.region
        )
    container: dict[str, Any] = {"Image": serving_image(step, ctx), "ModelDataUrl": model_data}
    if environment:
        container["Environment"] = environment
    return container


def _variant(step: EndpointStep, model: str) -> dict[str, Any]:
    variant: dict[str, Any] = {"VariantName": "AllTraffic", "ModelName": model}
    if step.serverless:
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": step.serverless.memory_mb,
            "MaxConcurrency": step.serverless.max_concurrency,
        }
    else:
        instance = step.instance
        variant.update(
            InstanceType=instance.type if instance else DEFAULT_INSTANCE,
            InitialInstanceCount=instance.count if instance else 1,
            InitialVariantWeight=1.0,
        )
    return variant


def config_request(step: EndpointStep, name: str, model: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    request: dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": [_variant(step, model)], "Tags": tags}
    if step.data_capture:
        request["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": step.data_capture.sampling_percent,
            "DestinationS3Uri": step.data_capture.s3_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    return request


def wait_for_endpoint(client: AwsClient, name: str, ctx: StepContext, poll_s: float) -> dict[str, Any] | None:
    """The endpoint once settled; None when it was being deleted and is gone (then it is absent)."""
    shown = None
    while True:
        endpoint = client.describe_endpoint(name)
        if endpoint is None:
            if shown == "Deleting":
                return None
            raise StepFailed(f"Endpoint {name} disappeared while waiting for it.")
        if endpoint["EndpointStatus"] != shown:
            shown = endpoint["EndpointStatus"]
            ctx.reporter.status(shown)
        if shown not in TRANSITIONAL:
            return endpoint
        client.sleep(poll_s)  # the wrapper owns the clock, so tests can stand in for it


def _check_existing(client: AwsClient, name: str, ctx: StepContext, poll_s: float) -> dict[str, Any] | None:
    """The endpoint as it stands, once settled; refuse one that failed or that is not ours."""
    endpoint = client.describe_endpoint(name)
    if endpoint is None:
        return None
    if endpoint["EndpointStatus"] in TRANSITIONAL:  # a killed run left it changing, or a destroy deleting
        endpoint = wait_for_endpoint(client, name, ctx, poll_s)
        if endpoint is None:
            return None
    if endpoint["EndpointStatus"] == "Failed":
        raise StepFailed(
            f"Endpoint {name} is in state Failed and cannot be updated.",
            f"{endpoint.get('FailureReason', '')} Run `destroy` for this step, then `run` again.".strip(),
        )
    if not owned_by(client.tags(endpoint["EndpointArn"]), ctx.pipeline.name, ctx.step):
        raise StepFailed(
            f"Endpoint {name} exists but was not created by step {ctx.step} of this pipeline; it was left as it is.",
            "Give the step another endpoint_name, or delete that endpoint first.",
        )
    return endpoint


def wait_until_gone(client: AwsClient, name: str, ctx: StepContext, poll_s: float) -> None:
    """DeleteEndpoint returns at once and the endpoint stays `Deleting` for a while: wait it out."""
    shown = None
    while (endpoint := client.describe_endpoint(name)) is not None:
        if endpoint["EndpointStatus"] != shown:
            shown = endpoint["EndpointStatus"]
            ctx.reporter.status(shown)
        client.sleep(poll_s)


def changes_hosting(client: AwsClient, step: EndpointStep, current_config: str) -> bool:
    """Does the step move the endpoint between instance and serverless hosting (which UpdateEndpoint refuses)?"""
    config = client.describe_endpoint_config(current_config)
    if config is None:
        return False
    serverless_now = any("ServerlessConfig" in variant for variant in config.get("ProductionVariants", []))
    return serverless_now != (step.serverless is not None)


def _ensure_model_and_config(client: AwsClient, step: EndpointStep, ctx: StepContext, resource: str, tags: Any) -> None:
    if client.describe_model(resource) is None:
        client.create_model(
            {
                "ModelName": resource,
                "PrimaryContainer": _container(client, step, ctx),
                "ExecutionRoleArn": ctx.pipeline.aws.role_arn,
                "Tags": tags,
            }
        )
    if client.describe_endpoint_config(resource) is None:
        client.create_endpoint_config(config_request(step, resource, resource, tags))


def model_resource_name(pipeline: str, step: str, fingerprint: str, model: str) -> str:
    """The model and its endpoint config share a name from the step and the artifact it serves,
    so a rollback or a forced retrain (same fingerprint, another model) gets its own config."""
    digest = hashlib.sha256(f"{fingerprint}\n{model}".encode()).hexdigest()
    return resource_name(pipeline, step, digest)


def deploy(client: AwsClient, step: EndpointStep, ctx: StepContext, poll_s: float) -> StepResult:
    pipeline = ctx.pipeline
    tags = ownership_tags(pipeline.name, ctx.step, step.tags)
    resource = model_resource_name(pipeline.name, ctx.step, ctx.fingerprint, step.model)
    name = endpoint_name(pipeline.name, ctx.step, step.endpoint_name)

    endpoint = _check_existing(client, name, ctx, poll_s)
    scaled = step.autoscaling is not None or autoscaling.recorded(ctx)
    released = False  # deregistered ahead of an update
    previous_config = endpoint["EndpointConfigName"] if endpoint else None
    if previous_config == resource:
        action = "kept"
    else:
        _ensure_model_and_config(client, step, ctx, resource, tags)
        if endpoint is None:
            client.create_endpoint(name, resource, tags)
            action = "created"
        elif changes_hosting(client, step, previous_config):
            ctx.reporter.status("replacing: SageMaker cannot update between instance and serverless hosting")
            if scaled:  # SageMaker refuses to delete a variant registered for autoscaling
                released = autoscaling.deregister(client, name)
            client.delete_endpoint(name)
            wait_until_gone(client, name, ctx, poll_s)
            client.create_endpoint(name, resource, tags)
            action = "replaced"
        else:
            if scaled:  # SageMaker refuses to update a variant registered for autoscaling
                released = autoscaling.deregister(client, name)
            client.update_endpoint(name, resource)
            action = "updated"

    final = wait_for_endpoint(client, name, ctx, poll_s) if action != "kept" else endpoint
    if final is None:
        raise StepFailed(f"Endpoint {name} disappeared while waiting for it.")
    details = {
        "endpoint_config": resource,
        "model_name": resource,
        "previous_config": previous_config,
        "action": action,
    }
    if final["EndpointStatus"] != "InService" or final["EndpointConfigName"] != resource:
        reason = final.get("FailureReason") or "SageMaker gave no reason."
        details["failure_reason"] = reason
        if action == "updated" and final["EndpointStatus"] == "InService":
            raise StepFailed(
                f"Updating endpoint {name} failed; the previous config {previous_config} stays live.", reason, details
            )
        raise StepFailed(f"Endpoint {name} is {final['EndpointStatus']} after deploying {resource}.", reason, details)
    scaling = autoscaling.follow(client, name, step.autoscaling, released) if scaled else None
    if scaling:
        details["autoscaling"] = scaling
    return StepResult(
        outputs={"endpoint_name": name, "url": invocation_url(pipeline.region, name), "model": step.model},
        message=f"endpoint {name} {action} with config {resource}" + (f"; {scaling}" if scaling else ""),
        details=details,
    )


def destroy(client: AwsClient, step: EndpointStep, ctx: StepContext, poll_s: float = 0) -> str:
    """Delete the endpoint (waiting until it is gone, so a run right after can create it again)
    and the configs and models this pipeline's step tagged as its own."""
    pipeline = ctx.pipeline
    recorded = ctx.previous.outputs.get("endpoint_name") if ctx.previous else None
    name = recorded or endpoint_name(pipeline.name, ctx.step, step.endpoint_name)
    removed: list[str] = []
    kept: list[str] = []

    endpoint = client.describe_endpoint(name)
    if endpoint is not None:
        if owned_by(client.tags(endpoint["EndpointArn"]), pipeline.name, ctx.step):
            scaled = step.autoscaling is not None or autoscaling.recorded(ctx)
            if scaled and autoscaling.deregister(client, name):  # first: SageMaker refuses to delete it otherwise
                removed.append(f"the autoscaling of {name}")
            client.delete_endpoint(name)
            wait_until_gone(client, name, ctx, poll_s)
            removed.append(f"endpoint {name}")
        else:
            kept.append(f"endpoint {name} (not tagged as this pipeline's)")

    prefix = resource_prefix(pipeline.name, ctx.step)
    configs = [c for c in client.list_endpoint_configs(prefix) if c["EndpointConfigName"].startswith(prefix)]
    models = [m for m in client.list_models(prefix) if m["ModelName"].startswith(prefix)]
    config_count = model_count = 0
    for config in configs:
        if owned_by(client.tags(config["EndpointConfigArn"]), pipeline.name, ctx.step):
            client.delete_endpoint_config(config["EndpointConfigName"])
            config_count += 1
    for model in models:
        if owned_by(client.tags(model["ModelArn"]), pipeline.name, ctx.step):
            client.delete_model(model["ModelName"])
            model_count += 1
    if config_count:
        removed.append(f"{config_count} endpoint config{'s' if config_count != 1 else ''}")
    if model_count:
        removed.append(f"{model_count} model{'s' if model_count != 1 else ''}")

    sentence = f"Deleted {', '.join(removed)}." if removed else f"Nothing of step {ctx.step} was left to delete."
    if kept:
        sentence += f" Left alone: {', '.join(kept)}."
    return sentence


def retire(client: AwsClient, ctx: StepContext, owner: str, poll_s: float = 0) -> str | None:
    """A renamed endpoint (`ctx.previous` names the old one): the owner step's endpoint now serves,
    so the old one goes, with the config and model only it used. A config the owner's endpoint runs
    on stays. Also what removes a leftover record (`deploy.was.first`) a failed retire left."""
    previous = ctx.previous
    old = previous.outputs.get("endpoint_name") if previous else None
    if not previous or not old:
        return None
    removed: list[str] = []
    endpoint = client.describe_endpoint(old)
    if endpoint is not None:
        if not owned_by(client.tags(endpoint["EndpointArn"]), ctx.pipeline.name, owner):
            return f"left alone: endpoint {old} is not tagged as this pipeline's"
        if autoscaling.recorded(ctx) and autoscaling.deregister(client, old):
            removed.append(f"the autoscaling of {old}")
        client.delete_endpoint(old)
        wait_until_gone(client, old, ctx, poll_s)
        removed.append(f"endpoint {old}")
    config = (endpoint or {}).get("EndpointConfigName") or previous.details.get("endpoint_config")
    if config and config != _config_in_use(client, ctx, owner):
        if client.describe_endpoint_config(config) is not None:
            client.delete_endpoint_config(config)
            removed.append(f"endpoint config {config}")
        if client.describe_model(config) is not None:  # a model and its config share one name
            client.delete_model(config)
            removed.append(f"model {config}")
    return f"deleted {', '.join(removed)}" if removed else f"endpoint {old} was already gone"


def _config_in_use(client: AwsClient, ctx: StepContext, owner: str) -> str | None:
    step = ctx.pipeline.steps.get(owner)
    if not isinstance(step, EndpointStep):
        return None
    current = client.describe_endpoint(endpoint_name(ctx.pipeline.name, owner, step.endpoint_name))
    return current["EndpointConfigName"] if current else None


class EndpointHandler(SageMakerHandler):
    """Endpoint steps as SageMaker endpoints, updated through a new endpoint config."""

    def run(self, step: EndpointStep, ctx: StepContext) -> StepResult:
        return deploy(self.client, step, ctx, self.target.poll_interval_s)

    def destroy(self, ctx: StepContext) -> str:
        owner = leftover_owner(ctx.step)
        if owner is not None:  # the old name of a renamed endpoint whose removal failed last time
            return retire(self.client, ctx, owner, self.target.poll_interval_s) or "nothing was left to delete"
        step = ctx.pipeline.steps.get(ctx.step)
        if not isinstance(step, EndpointStep):  # the step left the spec; destroy what was recorded
            step = EndpointStep(type="endpoint", model=(ctx.previous.outputs.get("model", "") if ctx.previous else ""))
        return destroy(self.client, step, ctx, self.target.poll_interval_s)

    def retire(self, ctx: StepContext) -> str | None:
        return retire(self.client, ctx, ctx.step, self.target.poll_interval_s)

    def problems(self, name: str, step: EndpointStep) -> list[Problem]:
        if not step.instance:  # serverless
            return []
        return instance_type_problems(name, step.instance.type, hosting_types(), "host endpoints")

    def live(self, outputs: Any) -> dict[str, Any] | None:
        """What DescribeEndpoint says now: its status and its variants' instances (current and desired;
        a serverless endpoint has none). None when nothing is recorded or the endpoint is gone."""
        name = outputs.get("endpoint_name")
        described = self.client.describe_endpoint(name) if name else None
        if not described:
            return None
        variants = described.get("ProductionVariants") or []
        figures: dict[str, Any] = {"endpoint_status": described.get("EndpointStatus")}
        if any("CurrentInstanceCount" in variant for variant in variants):
            figures["instances"] = sum(variant.get("CurrentInstanceCount", 0) for variant in variants)
            figures["desired_instances"] = sum(variant.get("DesiredInstanceCount", 0) for variant in variants)
        return figures
