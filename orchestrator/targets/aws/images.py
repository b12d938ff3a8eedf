"""Container images for built-in algorithms and framework containers.

`sagemaker.core.image_uris` costs seconds to import, so it is imported here,
inside the function, only when a step actually needs an AWS-owned image.
"""

from __future__ import annotations

from ..base import StepFailed

# Versions used when the spec names a framework or algorithm without one.
DEFAULT_FRAMEWORK_VERSIONS = {"sklearn": "1.2-1", "xgboost": "1.7-1", "pytorch": "2.1", "tensorflow": "2.13"}
PY_VERSIONS = {"pytorch": "py310", "tensorflow": "py310"}
ALGORITHM_VERSIONS = {"xgboost": "1.7-1", "knn": "1", "linear-learner": "1", "blazingtext": "1"}


def retrieve(
    framework: str, region: str, version: str, *, instance_type: str | None = None, scope: str = "training"
) -> str:
    try:
        from sagemaker.core import image_uris
    except ImportError as exc:
        raise StepFailed(
            "Built-in algorithm and framework images need the SageMaker SDK (sagemaker-core).",
            "pip install 'orchestrator[aws]', or give the step an `image:`.",
        ) from exc
    kwargs: dict[str, str] = {"region": region, "version": version, "image_scope": scope}
    if instance_type:
        kwargs["instance_type"] = instance_type
    if framework in PY_VERSIONS:
        kwargs["py_version"] = PY_VERSIONS[framework]
    try:
        return image_uris.retrieve(framework, **kwargs)
    except ValueError as exc:
        raise StepFailed(
            f"No SageMaker {scope} image for {framework} {version} in {region}.",
            str(exc).splitlines()[0],
        ) from exc


def algorithm_image(algorithm: str, region: str) -> str:
    return retrieve(algorithm, region, ALGORITHM_VERSIONS[algorithm])


def framework_image(
    framework: str, version: str | None, region: str, instance_type: str | None, scope: str = "training"
) -> str:
    return retrieve(
        framework, region, version or DEFAULT_FRAMEWORK_VERSIONS[framework], instance_type=instance_type, scope=scope
    )
