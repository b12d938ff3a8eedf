"""PyTorch and TensorFlow endpoints read their handler from model.tar.gz/code/, as their containers
do; framework: tensorflow follows TF Serving's input_handler/output_handler contract."""

from __future__ import annotations

import tarfile
import textwrap
from pathlib import Path

import httpx
import pytest

from orchestrator.targets.local.daemon.client import DaemonError
from orchestrator.targets.local.daemon.protocol import EndpointRequest
from orchestrator.targets.local.serving.tf_serving import TENSORFLOW_MISSING

# A stand-in for the tensorflow package, just enough of it for TF Serving's predict: a SavedModel
# whose serving signature multiplies its one input by the scale saved beside it.
FAKE_TENSORFLOW = """
import json
import os


class _Values:
    def __init__(self, values):
        self.values = values

    def numpy(self):
        return self

    def tolist(self):
        return self.values


def constant(values):
    return _Values(values)


class _Signature:
    structured_input_signature = ((), {"inputs": None})

    def __init__(self, scale):
        self.scale = scale

    def __call__(self, inputs):
        return {"outputs": _Values([[x * self.scale for x in row] for row in inputs.values])}


class _Loaded:
    def __init__(self, path):
        with open(os.path.join(path, "variables", "scale.json")) as handle:
            self.signatures = {"serving_default": _Signature(json.load(handle)["scale"])}


class saved_model:
    @staticmethod
    def load(path):
        return _Loaded(path)
"""

TF_HANDLERS = """
import json


def input_handler(data, context):
    if context.request_content_type == "text/csv":
        rows = [[float(x) for x in line.split(",")] for line in data.read().decode().splitlines() if line]
        return json.dumps({"instances": rows})
    return data.read().decode()


def output_handler(response, context):
    if response.status_code != 200:
        raise ValueError(response.content.decode())
    predictions = json.loads(response.content)["predictions"]
    answer = {"scores": predictions, "accept": context.accept_header, "model": context.model_name}
    return json.dumps(answer), "application/json"


def model_fn(model_dir):
    raise AssertionError("the TF Serving container never calls model_fn")
"""

TORCH_HANDLERS = """
import json
import os

from helper import GREETING  # a module beside it: the SDK repacks the handler's folder into code/


def model_fn(model_dir):
    return {"model_dir": model_dir}


def transform_fn(model, body, content_type, accept):
    here = os.path.dirname(os.path.abspath(__file__))
    return json.dumps({"here": here, "model_dir": model["model_dir"], "greeting": GREETING,
                       "program": os.environ["SAGEMAKER_PROGRAM"]}), "application/json"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def pack(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(folder.iterdir()):
            tar.add(item, arcname=item.name)
    return archive


@pytest.fixture(scope="module")
def tf_model(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tf")
    write(root / "fake" / "tensorflow" / "__init__.py", FAKE_TENSORFLOW)
    model = root / "model"
    (model / "half" / "1" / "variables").mkdir(parents=True)
    (model / "half" / "1" / "saved_model.pb").write_bytes(b"")
    (model / "half" / "1" / "variables" / "scale.json").write_text('{"scale": 0.5}')
    write(model / "code" / "inference.py", TF_HANDLERS)
    return {"archive": pack(model, root / "model.tar.gz"), "fake": root / "fake"}


def test_tensorflow_follows_tf_servings_handler_contract(cloud, tf_model):
    client = cloud["client"]
    request = EndpointRequest(
        tf_model["archive"].as_uri(), None, {"PYTHONPATH": str(tf_model["fake"])}, framework="tensorflow"
    )
    answer = client.put("ep-tf", request)
    try:
        reply = httpx.post(
            f"http://127.0.0.1:{answer.port}/invocations",
            content="2,4\n6,8\n",
            headers={"Content-Type": "text/csv", "Accept": "application/json"},
        )
        assert reply.json() == {"scores": [[1.0, 2.0], [3.0, 4.0]], "accept": "application/json", "model": "half"}
    finally:
        client.delete("endpoints", "ep-tf")


def test_tensorflow_without_handlers_passes_tf_servings_json_through(cloud, tf_model, tmp_path):
    folder = tmp_path / "plain"
    with tarfile.open(tf_model["archive"]) as tar:
        tar.extractall(folder, filter="data")
    (folder / "code" / "inference.py").unlink()
    archive = pack(folder, tmp_path / "plain.tar.gz")
    client = cloud["client"]
    answer = client.put(
        "ep-tf-plain",
        EndpointRequest(archive.as_uri(), None, {"PYTHONPATH": str(tf_model["fake"])}, framework="tensorflow"),
    )
    try:
        reply = httpx.post(f"http://127.0.0.1:{answer.port}/invocations", json={"instances": [[4]]})
        assert reply.json() == {"predictions": [[2.0]]}
    finally:
        client.delete("endpoints", "ep-tf-plain")


def test_tensorflow_needs_the_tensorflow_package(cloud, tf_model):
    with pytest.raises(DaemonError) as caught:
        cloud["client"].put(
            "ep-tf-none", EndpointRequest(tf_model["archive"].as_uri(), None, {}, framework="tensorflow")
        )
    assert str(caught.value) == TENSORFLOW_MISSING


def test_pytorch_reads_the_step_inference_module_from_the_archives_code_folder(cloud, files, tmp_path):
    inference = write(tmp_path / "serve" / "inference.py", TORCH_HANDLERS)
    write(tmp_path / "serve" / "helper.py", 'GREETING = "hi"\n')
    client = cloud["client"]
    answer = client.put(
        "ep-torch", EndpointRequest(files["transform_model"].as_uri(), str(inference), {}, framework="pytorch")
    )
    try:
        seen = httpx.post(f"http://127.0.0.1:{answer.port}/invocations", content=b"{}").json()
    finally:
        client.delete("endpoints", "ep-torch")
    assert seen["here"] == str(Path(seen["model_dir"]) / "code")  # not the project's folder
    assert (seen["greeting"], seen["program"]) == ("hi", "inference.py")
