"""InvokeEndpoint on SageMaker's runtime, through boto3, for `invoke` on the aws target.

boto3 is imported here only when a call is made. botocore's exceptions become one line
the user can act on, as the aws target's own wrapper words them; a ModelError is the
model's answer (its status and message), so it is shown like any non-2xx answer.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from ..errors import OrchestratorError, TargetError
from .invoke_http import Answer

READ_TIMEOUT_S = 70  # SageMaker gives a model 60 s to answer an invocation
_NO_CREDENTIALS_HINT = (
    "Set AWS_PROFILE (or aws.profile in the spec), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`."
)
_MODEL_ERROR_FIELDS = ("OriginalStatusCode", "OriginalMessage", "LogStreamArn")


def invoke_endpoint(
    region: str, profile: str | None, name: str, body: bytes, content_type: str, accept: str | None
) -> Answer:
    """One InvokeEndpoint call (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html)."""
    try:
        import boto3
        from botocore import exceptions as bx
        from botocore.config import Config
    except ImportError as exc:
        raise TargetError(
            "The aws target needs boto3, which is not installed.", "pip install 'orchestrator[aws]'"
        ) from exc
    params: dict[str, Any] = {"EndpointName": name, "ContentType": content_type, "Body": body}
    if accept:
        params["Accept"] = accept
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        # One attempt: an invocation is not known to be safe to repeat.
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            read_timeout=READ_TIMEOUT_S,
            user_agent_extra="orchestrator",
        )
        response = session.client("sagemaker-runtime", config=config).invoke_endpoint(**params)
    except bx.ProfileNotFound as exc:
        raise TargetError(
            f"AWS profile {profile!r} (aws.profile in the spec) is not configured on this machine.",
            "Check the name in ~/.aws/config, or remove aws.profile to use the environment.",
        ) from exc
    except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError) as exc:
        raise TargetError("No AWS credentials found for the aws target.", _NO_CREDENTIALS_HINT) from exc
    except (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ReadTimeoutError, bx.ConnectTimeoutError) as exc:
        raise OrchestratorError(
            f"Could not reach the SageMaker runtime in {region} (InvokeEndpoint): {exc}",
            "check the network, or AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME if it is set",
        ) from exc
    except bx.ClientError as exc:
        return _model_error(exc.response) or _raise(exc.response, name, region)
    meta = response.get("ResponseMetadata", {})
    headers = tuple((str(k), str(v)) for k, v in (meta.get("HTTPHeaders") or {}).items())
    return Answer(int(meta.get("HTTPStatusCode", 200)), "", headers, response["Body"].read())


def _model_error(response: dict[str, Any]) -> Answer | None:
    """The model answered with an error: SageMaker relays it as ModelError (HTTP 424)."""
    error = response.get("Error", {})
    if error.get("Code") != "ModelError":
        return None
    meta = response.get("ResponseMetadata", {})
    body = {"ErrorCode": "MODEL_ERROR", "Message": error.get("Message", "")}
    body.update({field: response[field] for field in _MODEL_ERROR_FIELDS if field in response})
    headers = tuple((str(k), str(v)) for k, v in (meta.get("HTTPHeaders") or {}).items())
    return Answer(int(meta.get("HTTPStatusCode", 424)), "", headers, json.dumps(body).encode())


def _raise(response: dict[str, Any], name: str, region: str) -> NoReturn:
    error = response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = _one_line(str(error.get("Message", "")))
    if code in ("AccessDenied", "AccessDeniedException"):
        raise OrchestratorError(
            "Access denied: the AWS identity in use may not call sagemaker:InvokeEndpoint.",
            f"Allow sagemaker:InvokeEndpoint on endpoint {name} in the policy of the user or role in use. {message}",
        )
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException"):
        raise TargetError(
            f"The AWS credentials in use were rejected ({code}).",
            "Refresh them (e.g. `aws sso login`) or check AWS_PROFILE.",
        )
    if code in ("ValidationError", "ValidationException") and "not found" in message.lower():
        raise OrchestratorError(
            f"InvokeEndpoint: endpoint {name} does not exist in {region}: {message}",
            "it may have been deleted outside orchestrator; deploy it again with python -m orchestrator run",
        )
    raise OrchestratorError(f"InvokeEndpoint failed ({code}): {message or 'no message'}")


def _one_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
