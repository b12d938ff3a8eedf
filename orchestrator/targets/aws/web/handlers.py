"""The api and website steps: each is one part of the pipeline's Pulumi stack.

A handler knows its kind's facts, which config key holds it, which secret keys
go with it, which stack it joins, and what its outputs are; the stack plumbing
(config in, `pulumi up`, outputs back, moving between stacks) is the `WebLayer`'s.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ....spec.models import ApiStep, Pipeline, WebsiteStep
from ...base import StepContext, StepFailed, StepHandler, StepResult, TargetError
from . import stack_config as keys
from .handoff import Part, WebLayer
from .site_names import site_bucket, website_origin

if TYPE_CHECKING:
    from .. import AwsTarget


class WebHandler(StepHandler):
    """A web step kind: its part, applied to and removed from a stack of the layer."""

    part: Part

    def __init__(self, layer: WebLayer):
        self.layer = layer

    def destroy(self, ctx: StepContext) -> str:
        """Remove what was made: from the stack the run recorded, else the one the spec names now."""
        recorded = ctx.previous.details.get("stack") if ctx.previous else None
        return self.layer.remove(self.part, str(recorded) if recorded else self.stack_now(ctx.step), ctx)

    @abstractmethod
    def stack_now(self, step_name: str) -> str:
        """The stack the spec puts this step in."""


class ApiHandler(WebHandler):
    """An api step: a REST API in the stack of its stage; route environments are a secret key of their own."""

    part = Part("api", keys.API_KEY, (keys.API_ENVIRONMENT_KEY,))

    def __init__(self, layer: WebLayer, target: AwsTarget | None = None):
        super().__init__(layer)
        self.target = target  # for the run's AWS client and reporter: what the account's settings allow
        self.access_log = True  # False when the account has no CloudWatch role for API Gateway (preflight)

    def preflight(self, name: str, step: ApiStep) -> None:
        """A stage's access log is written with the account's API Gateway CloudWatch role (one per Region,
        an account-wide setting left to its owner). Without one AWS refuses the stage's access logging,
        so the stage goes up without it, and the warning says how to turn it on."""
        if self.target is None:
            return
        try:
            account = self.target.client.call("apigateway", "GetAccount")
        except StepFailed as exc:
            self.target.reporter.warn(
                f"Could not read API Gateway's account settings ({exc}); the stage of api {name} logs access, "
                "which needs the account's CloudWatch role in this Region."
            )
            return
        if account.get("cloudwatchRoleArn"):
            return
        self.access_log = False
        self.target.reporter.warn(
            f"API Gateway has no CloudWatch Logs role in {self.layer.pipeline.region} for this account, so stage "
            f"{step.stage} of api {name} is deployed without an access log (`orchestrator logs` shows its "
            "functions' logs only). To log access, set one once per Region: a role apigateway.amazonaws.com may "
            "assume with the AmazonAPIGatewayPushToCloudWatchLogs permissions, then `aws apigateway update-account "
            f"--patch-operations op=replace,path=/cloudwatchRoleArn,value=<role-arn>`, then `run --force {name}` "
            "(an unchanged api step is not deployed again by itself)."
        )

    def apply(self, step: ApiStep, ctx: StepContext) -> StepResult:
        environments = keys.api_environment(step)
        secrets = {keys.API_ENVIRONMENT_KEY: keys.encode(environments)} if environments else {}
        document = keys.api_document(step)
        if not self.access_log:
            document[keys.ACCESS_LOG_SETTING] = False
        layer = self.layer
        stack, outputs = layer.apply(self.part, keys.stack_name(layer.pipeline, step.stage), document, ctx, secrets)
        url = layer.required(outputs, "api_url", stack)
        details = {"stack": stack.name, "backend": layer.backend_label}
        if outputs.get("api_key_id"):
            details["api_key_id"] = outputs["api_key_id"]
        layer.leave_previous_stack(self.part, stack, ctx)
        return StepResult(
            outputs={
                "url": url,
                "api_id": layer.required(outputs, "api_id", stack),
                "route_urls": outputs.get("route_urls") or {},
            },
            message=f"API {ctx.step} is live at {url} ({len(step.routes)} route(s), Pulumi stack {stack.name})",
            details=details,
        )

    def stack_now(self, step_name: str) -> str:
        pipeline = self.layer.pipeline
        step = pipeline.steps.get(step_name)
        stage = step.stage if isinstance(step, ApiStep) else keys.website_stage(pipeline)  # gone: the web stack
        return keys.stack_name(pipeline, stage)


class WebsiteHandler(WebHandler):
    """A website step: an S3 website in the stack of the pipeline's (first) API."""

    part = Part("website", keys.WEBSITE_KEY)

    def __init__(self, layer: WebLayer, target: AwsTarget | None = None):
        super().__init__(layer)
        self.target = target  # for the run's AWS client and reporter: what the account allows

    def preflight(self, name: str, step: WebsiteStep) -> None:
        """A public site needs a public bucket policy, which the account's Block Public Access may refuse
        (PutBucketPolicy: AccessDenied) or void (RestrictPublicBuckets): say so before anything is spent."""
        if not step.public or self.target is None:
            return
        client = self.target.client
        try:
            account = client.caller_identity()["Account"]
            block = client.account_public_access_block(account) or {}
        except StepFailed as exc:
            if getattr(exc, "code", "") in ("AccessDenied", "AccessDeniedException", "403"):
                self.target.reporter.warn(
                    "Could not read the account's Block Public Access (no s3:GetAccountPublicAccessBlock); continuing."
                )
                return
            raise TargetError(str(exc), exc.detail or None) from exc
        setting = next((key for key in ("BlockPublicPolicy", "RestrictPublicBuckets") if block.get(key)), None)
        if setting:
            raise TargetError(
                f"Account {account} has Block Public Access {setting} on, so the public bucket policy of website "
                f"{name} would be {'refused' if setting == 'BlockPublicPolicy' else 'ignored'}.",
                f"Set steps.{name}.public: false (and serve the site through CloudFront), or turn {setting} "
                "off for the account (S3 console: Block Public Access settings for this account).",
            )

    def known_outputs(
        self, pipeline: Pipeline, name: str, step: WebsiteStep, recorded: Mapping[str, Any], settle: bool
    ) -> dict[str, str]:
        """The origin follows from the bucket's name: the one recorded, else the one the run will give it
        (it needs the account, so a plan without a recorded bucket leaves it out)."""
        bucket = self.bucket_name(name, recorded, settle)
        return {"origin": website_origin(bucket, pipeline.region)} if bucket else {}

    def bucket_name(self, name: str, recorded: Mapping[str, Any], ask_account: bool) -> str | None:
        """The bucket a run recorded (kept: renaming would replace the site), else the derived one."""
        if recorded.get("bucket"):
            return str(recorded["bucket"])
        if not ask_account or self.target is None:
            return None  # e.g. a layer driven alone in tests: Pulumi autonames the bucket
        account = self.target.client.caller_identity()["Account"]
        pipeline = self.layer.pipeline
        return site_bucket(account, pipeline.region, pipeline.name, name)

    def apply(self, step: WebsiteStep, ctx: StepContext) -> StepResult:
        layer = self.layer
        bucket = self.bucket_name(ctx.step, ctx.previous.outputs if ctx.previous else {}, ask_account=True)
        document = keys.website_document(step, bucket)
        stack, outputs = layer.apply(self.part, self.stack_now(ctx.step), document, ctx, {})
        url = layer.required(outputs, "website_url", stack)
        layer.leave_previous_stack(self.part, stack, ctx)
        made = layer.required(outputs, "website_bucket", stack)
        return StepResult(
            outputs={"url": url, "bucket": made, "origin": website_origin(made, layer.pipeline.region)},
            message=f"website {ctx.step} is live at {url} (Pulumi stack {stack.name})",
            details={"stack": stack.name, "backend": layer.backend_label},
        )

    def stack_now(self, step_name: str) -> str:
        return keys.stack_name(self.layer.pipeline, keys.website_stage(self.layer.pipeline))


def web_handlers(layer: WebLayer, target: AwsTarget | None = None) -> dict[str, WebHandler]:
    """The handlers of the two web kinds, sharing one layer (and so one set of open stacks)."""
    return {"api": ApiHandler(layer, target), "website": WebsiteHandler(layer, target)}
