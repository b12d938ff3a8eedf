"""Helpers and small fakes shared by the aws target's tests.

The fakes are real subclasses of the target's AWS wrapper, not mocks: they answer
the few calls moto cannot (or errors it will not produce) and pass the rest
through to the moto server. Every one of them is a StrictClient: what reaches
botocore is held against AWS's rules (`strict.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.spec.models import Pipeline
from orchestrator.targets.aws.client import AwsClient
from orchestrator.targets.base import Previous, StepContext

from . import strict
from .rules import Request, refusals

ROLE_NAME = "orchestrator-sagemaker"
BUCKET = "orchestrator-test-artifacts"
REGION = "us-east-1"


class Recorder:
    """A Reporter that keeps what it is told, so tests can pin messages."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def log(self, line: str) -> None:
        self.lines.append(("log", line))

    def status(self, text: str) -> None:
        self.lines.append(("status", text))

    def info(self, text: str) -> None:
        self.lines.append(("info", text))

    def warn(self, text: str) -> None:
        self.lines.append(("warn", text))

    def of(self, kind: str) -> list[str]:
        return [text for k, text in self.lines if k == kind]


def make_pipeline(
    steps: dict[str, Any], *, role_arn: str | None, bucket: str | None, name: str = "movie-reviews"
) -> Pipeline:
    return Pipeline.model_validate(
        {
            "name": name,
            "target": "aws",
            "region": REGION,
            "aws": {"role_arn": role_arn, "bucket": bucket},
            "steps": steps,
        }
    )


def make_ctx(
    pipeline: Pipeline,
    step: str,
    project_dir: Path,
    *,
    fingerprint: str,
    upstream: dict[str, dict[str, Any]] | None = None,
    previous: Previous | None = None,
    reporter: Recorder | None = None,
    forced: bool = False,
) -> StepContext:
    return StepContext(
        pipeline=pipeline,
        step=step,
        kind=pipeline.steps[step].type,
        run_id=1,
        fingerprint=fingerprint,
        project_dir=project_dir,
        state_dir=project_dir / ".orchestrator",
        previous=previous,
        upstream=upstream or {},
        reporter=reporter or Recorder(),
        forced=forced,
    )


def client_error(operation: str, code: str, message: str, status: int = 400) -> Exception:
    """The exact exception botocore raises for an AWS error response."""
    from botocore.exceptions import ClientError

    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


class StrictClient(AwsClient):
    """The target's wrapper, with clients from the strict layer's session (unless a test gives its own)."""

    def __init__(self, region: str, *args: Any, **kwargs: Any):
        kwargs.setdefault("session", strict.STRICT.session(region))
        super().__init__(region, *args, **kwargs)


def new_client(cls: type[AwsClient] = StrictClient, **kwargs: Any) -> AwsClient:
    """A strict wrapper for the test region that does not really sleep between retries."""
    return cls(REGION, sleep=lambda seconds: None, **kwargs)


class ScriptedErrors(StrictClient):
    """Raises queued botocore errors for named operations, then lets calls reach moto."""

    def __init__(self, *args: Any, errors: dict[str, list[Exception]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.errors = errors
        self.slept: list[float] = []
        self.sleep = self.slept.append  # backoff is recorded, not waited

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.errors.get(operation)
        if queue:
            raise queue.pop(0)
        return super()._invoke(service, operation, params)


class UpdatingEndpoints(StrictClient):
    """Answers UpdateEndpoint, which moto does not implement (HTTP 500), as SageMaker does.

    After an update the endpoint reports Updating once, then InService with the new
    config, or, when `fail_reason` is set, InService with the old config and the
    reason, as SageMaker reports an update it rolled back.
    """

    def __init__(self, *args: Any, fail_reason: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fail_reason = fail_reason
        self.updates: dict[str, str] = {}
        self.describes_since_update = 0

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "UpdateEndpoint":
            self.updates[params["EndpointName"]] = params["EndpointConfigName"]
            self.describes_since_update = 0
            return {"EndpointArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{params['EndpointName']}"}
        result = super()._invoke(service, operation, params)
        if operation == "DescribeEndpoint" and params["EndpointName"] in self.updates:
            self.describes_since_update += 1
            result = dict(result)
            if self.describes_since_update == 1:
                result["EndpointStatus"] = "Updating"
            elif self.fail_reason:
                result["FailureReason"] = self.fail_reason
            else:
                result["EndpointConfigName"] = self.updates[params["EndpointName"]]
        return result


class DeletingEndpoints(UpdatingEndpoints):
    """Makes a deleted endpoint report `Deleting` for `deleting_polls` describes, as SageMaker does
    (moto removes it at once), then be gone."""

    def __init__(self, *args: Any, deleting_polls: int = 2, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.deleting_polls = deleting_polls
        self.deleting: dict[str, int] = {}  # endpoint -> describes left that answer Deleting
        self.delete_requests: dict[str, int] = {}  # endpoint -> DeleteEndpoint calls

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("EndpointName", "")
        if operation == "DescribeEndpoint" and self.deleting.get(name):
            self.deleting[name] -= 1
            arn = f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{name}"
            return {"EndpointName": name, "EndpointArn": arn, "EndpointStatus": "Deleting"}
        result = super()._invoke(service, operation, params)
        if operation == "DeleteEndpoint":
            self.deleting[name] = self.deleting_polls
            self.delete_requests[name] = self.delete_requests.get(name, 0) + 1
            self.updates.pop(name, None)
        return result


class JobOutcome(StrictClient):
    """Makes moto's training jobs (which complete at once) pass through InProgress, or fail, and report metrics."""

    def __init__(
        self,
        *args: Any,
        in_progress_polls: int = 0,
        failure: str | None = None,
        final_metrics: dict[str, float] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.in_progress_polls = in_progress_polls
        self.failure = failure
        self.final_metrics = final_metrics or {}  # what the algorithm reported, as FinalMetricDataList holds it

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        result = super()._invoke(service, operation, params)
        if operation == "DescribeTrainingJob":
            result = dict(result)
            if self.in_progress_polls > 0:
                self.in_progress_polls -= 1
                result.update(TrainingJobStatus="InProgress", SecondaryStatus="Training")
            elif self.failure:
                result.update(TrainingJobStatus="Failed", SecondaryStatus="Failed", FailureReason=self.failure)
            else:
                result.update(BillableTimeInSeconds=42, TrainingTimeInSeconds=42)
                if self.final_metrics:
                    result["FinalMetricDataList"] = [
                        {"MetricName": name, "Value": value} for name, value in self.final_metrics.items()
                    ]
        elif operation == "ListTrainingJobs" and self.in_progress_polls > 0:
            result = {
                **result,
                "TrainingJobSummaries": [
                    {**j, "TrainingJobStatus": "InProgress"} for j in result.get("TrainingJobSummaries", [])
                ],
            }
        return result


def assert_accepted(service: str, operation: str, params: dict[str, Any], region: str = REGION) -> None:
    """A request a test pins must be one AWS accepts: held against the same rules as the strict layer."""
    found = refusals(Request(service, operation, params, region))
    assert not found, f"{operation} as pinned here would be refused by AWS:\n" + "\n".join(found)
