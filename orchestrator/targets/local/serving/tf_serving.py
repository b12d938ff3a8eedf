"""`framework: tensorflow`: the TF Serving container's handler contract.

SageMaker's TensorFlow Serving container reads `code/inference.py` from the model
archive. `input_handler(data, context)` turns the request into TF Serving's REST body
(`{"instances": [...]}`), TF Serving predicts with the SavedModel, and
`output_handler(response, context)` turns its answer into `(body, content_type)`; a
`handler(data, context)` replaces both and calls TF Serving itself. Without them, JSON
passes straight through. Here TF Serving's predict runs the SavedModel with this
machine's `tensorflow` package.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .inference import InvocationContext, InvocationError, ModelLoadError, error_status

TENSORFLOW_MISSING = (
    "framework: tensorflow stands in for TF Serving with this machine's tensorflow package, "
    "which is not installed: pip install tensorflow-cpu"
)


@dataclass
class Context:
    """What the container hands input_handler/output_handler (sagemaker-tensorflow-serving-container)."""

    model_name: str
    model_version: str
    method: str
    rest_uri: str
    grpc_port: str
    custom_attributes: str | None
    request_content_type: str
    accept_header: str
    content_length: int


@dataclass
class ServingResponse:
    """TF Serving's REST answer as output_handler reads it (the container hands it a requests.Response)."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.content)


def saved_model_dir(model_dir: Path) -> Path:
    """The SavedModel in the archive: `<name>/<version>/saved_model.pb`, or at its top."""
    found = sorted(p.parent for p in model_dir.rglob("saved_model.pb") if "code" not in p.relative_to(model_dir).parts)
    if not found:
        raise ModelLoadError("no SavedModel in the archive: expected <model name>/<version>/saved_model.pb")
    return found[-1]  # the highest version, as TF Serving serves it


class SavedModelServer:
    """TF Serving's `:predict` REST call, run with the tensorflow package."""

    def __init__(self, path: Path):
        try:
            import tensorflow as tf
        except ImportError as exc:
            raise ModelLoadError(TENSORFLOW_MISSING) from exc
        self.tf = tf
        try:
            self.signature = tf.saved_model.load(str(path)).signatures["serving_default"]
        except Exception as exc:
            raise ModelLoadError(f"loading the SavedModel in {path.name} failed: {type(exc).__name__}: {exc}") from exc
        self.name = path.parent.name if path.name.isdigit() else path.name
        self.version = path.name if path.name.isdigit() else "1"

    def predict(self, body: bytes) -> ServingResponse:
        try:
            request = json.loads(body)
            inputs = request["instances"] if isinstance(request, dict) else request
            (input_name,) = self.signature.structured_input_signature[1].keys()
            outputs = self.signature(**{input_name: self.tf.constant(inputs)})
            values = {name: tensor.numpy().tolist() for name, tensor in outputs.items()}
        except Exception as exc:
            return ServingResponse(400, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        predictions = next(iter(values.values())) if len(values) == 1 else values
        return ServingResponse(200, json.dumps({"predictions": predictions}).encode())


def _default_input(data: io.BytesIO, context: Context) -> str:
    if context.request_content_type.split(";")[0].strip() not in ("application/json", ""):
        raise InvocationError(415, f"content type {context.request_content_type} needs an input_handler")
    return data.read().decode("utf-8")


def _default_output(response: ServingResponse, context: Context) -> tuple[bytes, str]:
    if response.status_code != 200:
        raise InvocationError(response.status_code, response.text)
    return response.content, "application/json"


class TfServingModel:
    """A SavedModel behind the TF Serving container's handlers; swapped whole on redeploy, like LoadedModel."""

    def __init__(self, server: SavedModelServer, module: Any | None):
        self.server = server
        self.handler = getattr(module, "handler", None)
        self.input_handler = getattr(module, "input_handler", None) or _default_input
        self.output_handler = getattr(module, "output_handler", None) or _default_output

    def invoke(
        self, body: bytes, content_type: str, accept: str | None, context: InvocationContext
    ) -> tuple[bytes, str]:
        serving = Context(
            model_name=self.server.name,
            model_version=self.server.version,
            method="predict",
            rest_uri=f"http://127.0.0.1/v1/models/{self.server.name}:predict",
            grpc_port="",
            custom_attributes=context.custom_attributes,
            request_content_type=content_type,
            accept_header=accept or "application/json",
            content_length=len(body),
        )
        try:
            if self.handler is not None:
                result = self.handler(io.BytesIO(body), serving)
            else:
                request = self.input_handler(io.BytesIO(body), serving)
                encoded = request.encode("utf-8") if isinstance(request, str) else request
                result = self.output_handler(self.server.predict(encoded), serving)
        except InvocationError:
            raise
        except Exception as exc:
            status = error_status(exc)
            raise InvocationError(status, str(exc) if status < 500 else f"{type(exc).__name__}: {exc}") from exc
        body_out, media = result if isinstance(result, tuple) else (result, serving.accept_header)
        return (body_out.encode("utf-8") if isinstance(body_out, str) else bytes(body_out)), media


def load_tf_serving(model_dir: Path, module: Any | None) -> TfServingModel:
    return TfServingModel(SavedModelServer(saved_model_dir(model_dir)), module)
