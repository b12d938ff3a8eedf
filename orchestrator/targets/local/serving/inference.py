"""Loading a model the way SageMaker's inference toolkit does, and invoking it.

The user's inference module may define model_fn/input_fn/predict_fn/output_fn or one
transform_fn; whatever it leaves out falls back to defaults that serve a pickled or
joblib scikit-learn model with `{"instances": [...]}` in and `{"predictions": [...]}` out.
`framework: tensorflow` follows TF Serving's contract instead (tf_serving.py). This runs
in an endpoint's worker process, whose environment is the endpoint's own.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import os
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from . import content

MODEL_PATTERNS = ("*.joblib", "*.pkl", "*.pickle", "model.*")
_module_counter = itertools.count(1)


class ModelLoadError(Exception):
    """The model or its inference module could not be loaded; the message says why."""


class InvocationError(Exception):
    """An invocation failed inside the model server; becomes SageMaker's ModelError."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class InvocationContext:
    """Per-request facts a handler may take as an extra `context` argument."""

    custom_attributes: str | None = None
    response_custom_attributes: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)


def default_model_fn(model_dir: str) -> Any:
    import joblib

    root = Path(model_dir)
    for pattern in MODEL_PATTERNS:
        for candidate in sorted(root.rglob(pattern)):
            if candidate.is_file():
                return joblib.load(candidate)
    raise ModelLoadError(
        f"no model file in the archive: expected one matching {', '.join(MODEL_PATTERNS)}, "
        "or define model_fn(model_dir) in the inference module"
    )


def default_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)


@dataclass
class Handlers:
    model_fn: Callable
    input_fn: Callable
    predict_fn: Callable
    output_fn: Callable
    transform_fn: Callable | None = None


def _takes_context(function: Callable, base_arity: int) -> bool:
    try:
        return len(inspect.signature(function).parameters) > base_arity
    except (TypeError, ValueError):
        return False


def _call(function: Callable, takes_context: bool, args: tuple, context: InvocationContext) -> Any:
    if takes_context:
        return function(*args, context)
    return function(*args)


def import_inference_module(path: Path) -> Any:
    """Import the user's module under a unique name with its folder on sys.path."""
    if not path.is_file():
        raise ModelLoadError(f"inference module not found: {path}")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"orchestrator_inference_{next(_module_counter)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise ModelLoadError(f"importing {path.name} failed: {type(exc).__name__}: {exc}") from exc
    return module


def handlers_for(module: Any | None) -> Handlers:
    def pick(name: str, default: Callable | None) -> Callable | None:
        return getattr(module, name, None) or default

    return Handlers(
        model_fn=pick("model_fn", default_model_fn),
        input_fn=pick("input_fn", content.decode_input),
        predict_fn=pick("predict_fn", default_predict_fn),
        output_fn=pick("output_fn", content.encode_output),
        transform_fn=pick("transform_fn", None),
    )


def local_path(model_uri: str) -> Path:
    parsed = urlparse(model_uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(model_uri)
    raise ModelLoadError(f"the local target reads models from file:// URIs, got {model_uri}")


def extract_model(model_uri: str, into: Path) -> Path:
    """Unpack model.tar.gz (or use a folder as is) into a fresh folder."""
    source = local_path(model_uri)
    if source.is_dir():
        return source
    if not source.is_file():
        raise ModelLoadError(f"model artifact not found: {source}")
    into.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(source, "r:*") as archive:
            archive.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ModelLoadError(f"cannot extract {source.name}: {exc}") from exc
    return into


def error_status(exc: Exception) -> int:
    """A handler's own status (the toolkit's `status_code`), 400 for bad input (ValueError), else 500."""
    for name in ("status", "status_code"):
        status = getattr(exc, name, None)
        if isinstance(status, int) and 400 <= status <= 599:
            return status
    return 400 if isinstance(exc, ValueError) else 500


@dataclass
class LoadedModel:
    """One deployed model, ready to answer; swapped whole on redeploy."""

    model: Any
    handlers: Handlers
    model_uri: str
    default_accept: str | None
    _context: dict[str, bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Which handlers take a `context`, read once: a signature costs more than a small model's call.
        h = self.handlers
        self._context = {
            "transform_fn": h.transform_fn is not None and _takes_context(h.transform_fn, 4),
            **{name: _takes_context(getattr(h, name), 2) for name in ("input_fn", "predict_fn", "output_fn")},
        }

    def invoke(
        self, body: bytes, content_type: str, accept: str | None, context: InvocationContext
    ) -> tuple[bytes, str]:
        if not accept or accept == "*/*":
            accept = self.default_accept or accept
        h, takes = self.handlers, self._context
        try:
            if h.transform_fn is not None:
                result = _call(h.transform_fn, takes["transform_fn"], (self.model, body, content_type, accept), context)
            else:
                data = _call(h.input_fn, takes["input_fn"], (body, content_type), context)
                prediction = _call(h.predict_fn, takes["predict_fn"], (data, self.model), context)
                result = _call(h.output_fn, takes["output_fn"], (prediction, accept), context)
        except Exception as exc:
            status = error_status(exc)  # a 4xx message is for the caller; a 5xx one names the failure
            raise InvocationError(status, str(exc) if status < 500 else f"{type(exc).__name__}: {exc}") from exc
        return content.as_response(result, accept or "application/octet-stream")


def handler_module(inference: Path | None, model_dir: Path) -> tuple[Any | None, bool]:
    """The module that serves this model, and whether it is a built-in algorithm's.

    In SageMaker's order: the step's own inference module, then `code/inference.py`
    packed in the archive, then the stand-in for the built-in algorithm that trained it.
    """
    if inference is not None:
        return import_inference_module(inference), False
    packed = model_dir / "code" / "inference.py"
    if packed.is_file():
        return import_inference_module(packed), False
    from ..algorithms import inference_module, read_marker

    algorithm = read_marker(model_dir)
    if algorithm is None:
        return None, False
    return importlib.import_module(inference_module(algorithm)), True


def load_model(model_dir: Path, inference: Path | None, framework: str | None = None) -> Any:
    """Load fully (import, model_fn) before anything serves it; an object with `invoke`."""
    module, builtin = handler_module(inference, model_dir)
    if framework == "tensorflow":
        from .tf_serving import load_tf_serving

        return load_tf_serving(model_dir, module)
    handlers = handlers_for(module)
    try:
        model = handlers.model_fn(str(model_dir))
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"model_fn failed: {type(exc).__name__}: {exc}") from exc
    # A built-in algorithm has its own default answer format (XGBoost: CSV); the
    # inference toolkit's default for user handlers is JSON.
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or (None if builtin else "application/json")
    return LoadedModel(model=model, handlers=handlers, model_uri=str(model_dir), default_accept=default_accept)
