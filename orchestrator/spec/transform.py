"""The `transform` step: a SageMaker batch transform of a prefix of objects with a trained model.

It serves the model as an endpoint would (framework, inference module or a built-in's own
handlers) and writes one `<input file>.out` per input object under its `data` output.
"""

# No `from __future__ import annotations`: pydantic would eval every field's type from a string.
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from .instance_types import hosting_types, training_types
from .models import Instance, Strict, _no_entries

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic
    from .loader import Document
    from .models import Pipeline

# CreateTransformJob (API reference): MaxPayloadInMB 0-100 (0: chunked, not for built-ins);
# Environment at most 16 entries, keys [a-zA-Z_][a-zA-Z0-9_]{0,1023}, values up to 10,240 characters.
MAX_PAYLOAD_MB = 100
MAX_ENVIRONMENT = 16
MAX_ENVIRONMENT_VALUE = 10240


def transform_types() -> frozenset[str]:
    """Batch transform runs on the families that both train and host: no burstable ml.t2/ml.t3."""
    return training_types() & hosting_types()


class TransformStep(Strict):
    """A SageMaker batch transform job over every object under `input`."""

    INSTANCE_TYPES: ClassVar = staticmethod(transform_types)
    INSTANCE_USE: ClassVar[str] = "batch transform"

    type: Literal["transform"]
    model: str = Field(description="Model artifact, usually ${steps.<training>.outputs.model}.")
    inference: str | None = Field(
        None, description="Inference handler module (model_fn/input_fn/predict_fn/output_fn), as for an endpoint."
    )
    framework: Literal["sklearn", "xgboost", "pytorch", "tensorflow"] | None = None
    framework_version: str | None = None
    image: str | None = None
    environment: dict[str, str] = Field(default_factory=_no_entries)
    input: str = Field(description="s3:// prefix (or a file or folder beside the spec, or ${...}) to transform.")
    content_type: str = Field("text/csv", description="Content-Type of each request to the model.")
    split_type: Literal["None", "Line"] = Field("None", description="None: one request per object; Line: by line.")
    strategy: Literal["SingleRecord", "MultiRecord"] = Field(
        "MultiRecord", description="One record per request, or as many as fit in max_payload_mb."
    )
    max_payload_mb: int = Field(6, ge=0, le=MAX_PAYLOAD_MB, description="Largest request, MB (0: unbounded).")
    accept: str | None = Field(None, description="Accept sent with each request; the model's default if unset.")
    assemble_with: Literal["None", "Line"] = Field(
        "None", description="None: answers concatenated as they are; Line: a newline after each."
    )
    instance: Instance = Field(default_factory=lambda: Instance(type="ml.m5.large"))
    tags: dict[str, str] = Field(default_factory=_no_entries)


def check_transforms(p: "Pipeline", doc: "Document", root: object) -> Iterator["Diagnostic"]:
    """What CreateTransformJob would refuse, and a source of input that cannot be one."""
    from .paths import s3_uri_problem
    from .refs import REF

    for name, step in p.steps.items():
        if not isinstance(step, TransformStep):
            continue
        at = ("steps", name)
        if step.image and step.framework:
            yield doc.diagnostic(at, "set either 'image' or 'framework', not both", "the framework picks the image")
        problem = s3_uri_problem(step.input) if step.input.startswith("s3://") else None
        if problem:
            yield doc.diagnostic(at + ("input",), *problem)
        if step.max_payload_mb == 0 and not (step.framework or step.inference or step.image):
            yield doc.diagnostic(
                at + ("max_payload_mb",),
                "max_payload_mb 0 (chunked requests) is not supported by SageMaker's built-in algorithms",
                "set a size in MB, at most 100 (the default is 6)",
            )
        if len(step.environment) > MAX_ENVIRONMENT:
            yield doc.diagnostic(
                at + ("environment",),
                f"{len(step.environment)} environment variables; a transform job takes at most {MAX_ENVIRONMENT}",
            )
        for key, value in step.environment.items():
            if len(value) > MAX_ENVIRONMENT_VALUE and not REF.search(value):
                yield doc.diagnostic(
                    at + ("environment", key), f"value of {key} is longer than {MAX_ENVIRONMENT_VALUE} characters"
                )
