"""Endpoints across hosting changes and deletion: what SageMaker does not allow, and what takes time.

SageMaker refuses UpdateEndpoint between instance and serverless hosting, and an endpoint
stays `Deleting` for a while after DeleteEndpoint (moto removes it at once: the fake in
`aws_support.DeletingEndpoints` reports the interval). PyTorch and TensorFlow containers
read the handler from the model archive's `code/` folder only.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace

from orchestrator.targets.aws import AwsTarget
from orchestrator.targets.base import Previous

from .aws_support import BUCKET, DeletingEndpoints, Recorder, make_ctx, make_pipeline, new_client
from .test_endpoint import CONFIG_A, CONFIG_B, IMAGE, MODEL_A, MODEL_B

NAME = "movie-reviews-deploy"
SERVERLESS = {"memory_mb": 2048, "max_concurrency": 2}


def _pipeline(account, **deploy):
    step = {"type": "endpoint", "model": MODEL_A, "image": IMAGE, "instance": {"type": "ml.t2.medium"}, **deploy}
    return make_pipeline({"deploy": step}, **account)


def _target(pipeline, project, client):
    target = AwsTarget(pipeline, project, project / ".orchestrator", client=client)
    target.poll_interval_s = 0
    return target


def _deploy(target, pipeline, project, fingerprint, model=MODEL_A, reporter=None):
    step = pipeline.steps["deploy"].model_copy(update={"model": model})
    ctx = make_ctx(pipeline, "deploy", project, fingerprint=fingerprint, reporter=reporter)
    return target.apply("endpoint", step, ctx)


def test_destroy_waits_until_the_endpoint_is_gone(account, project, boto):
    pipeline = _pipeline(account)
    client = new_client(DeletingEndpoints, deleting_polls=3)
    target = _target(pipeline, project, client)
    _deploy(target, pipeline, project, "a" * 64)
    reporter = Recorder()
    ctx = make_ctx(pipeline, "deploy", project, fingerprint="a" * 64, reporter=reporter)
    message = target.destroy("endpoint", ctx)
    assert message == f"Deleted endpoint {NAME}, 1 endpoint config, 1 model."
    assert client.deleting[NAME] == 0  # every Deleting answer was waited out before destroy returned
    assert ("status", "Deleting") in reporter.lines


def test_a_run_while_the_endpoint_is_deleting_treats_it_as_absent(account, project, boto):
    pipeline = _pipeline(account)
    client = new_client(DeletingEndpoints, deleting_polls=2)
    target = _target(pipeline, project, client)
    _deploy(target, pipeline, project, "a" * 64)
    client.delete_endpoint(NAME)  # e.g. a destroy killed before it finished waiting
    again = _deploy(target, pipeline, project, "b" * 64, MODEL_B)
    assert again.details["action"] == "created"
    assert boto["sagemaker"].describe_endpoint(EndpointName=NAME)["EndpointConfigName"] == CONFIG_B


def test_instance_to_serverless_replaces_the_endpoint_instead_of_updating_it(account, project, boto):
    client = new_client(DeletingEndpoints)
    instance = _pipeline(account)
    _deploy(_target(instance, project, client), instance, project, "a" * 64)
    serverless = _pipeline(account, instance=None, serverless=SERVERLESS)
    reporter = Recorder()
    result = _deploy(_target(serverless, project, client), serverless, project, "b" * 64, MODEL_B, reporter)
    assert result.details["action"] == "replaced"
    assert result.details["previous_config"] == CONFIG_A
    assert result.message == f"endpoint {NAME} replaced with config {CONFIG_B}"
    assert ("UpdateEndpoint", "write") not in client.calls  # SageMaker refuses it across hosting kinds
    assert client.delete_requests == {NAME: 1}
    assert ("status", "replacing: SageMaker cannot update between instance and serverless hosting") in reporter.lines
    assert boto["sagemaker"].describe_endpoint(EndpointName=NAME)["EndpointConfigName"] == CONFIG_B


def test_a_new_model_on_the_same_hosting_still_updates(account, project, boto):
    client = new_client(DeletingEndpoints)
    serverless = _pipeline(account, instance=None, serverless=SERVERLESS)
    target = _target(serverless, project, client)
    _deploy(target, serverless, project, "a" * 64)
    result = _deploy(target, serverless, project, "b" * 64, MODEL_B)
    assert result.details["action"] == "updated"
    assert client.delete_requests == {}


def _model_archive(boto, key="models/a/model.tar.gz"):
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in {"model.pth": b"weights", "code/old.py": b"stale"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    boto["s3"].put_object(Bucket=BUCKET, Key=key, Body=archive.getvalue())


def _members(boto, uri):
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = boto["s3"].get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_a_pytorch_handler_is_repacked_into_the_models_code_folder(account, project, boto):
    _model_archive(boto)
    pipeline = _pipeline(
        account, image=None, framework="pytorch", framework_version="2.1", inference="models/inference.py"
    )
    client = new_client(DeletingEndpoints)  # answers UpdateEndpoint, which moto lacks
    target = _target(pipeline, project, client)
    _deploy(target, pipeline, project, "a" * 64)
    container = boto["sagemaker"].describe_model(ModelName=CONFIG_A)["PrimaryContainer"]
    assert container["ModelDataUrl"] != MODEL_A and container["ModelDataUrl"].startswith(f"s3://{BUCKET}/")
    members = _members(boto, container["ModelDataUrl"])
    assert members["model.pth"] == b"weights"
    assert members["code/inference.py"] == (project / "models" / "inference.py").read_bytes()
    assert members["code/train.py"] == (project / "models" / "train.py").read_bytes()  # the handler's folder
    assert "code/old.py" not in members  # the step's handler replaces an earlier code/
    env = container["Environment"]
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code" and env["SAGEMAKER_PROGRAM"] == "inference.py"
    assert "pytorch-inference" in container["Image"]

    ctx = make_ctx(pipeline, "deploy", project, fingerprint="c" * 64)
    target.apply("endpoint", pipeline.steps["deploy"], ctx)  # another model resource, the same repacked archive
    assert client.calls[("UploadFile", "write")] == 1


def test_a_serverless_tensorflow_endpoint_gets_a_cpu_image_and_its_handler_as_inference_py(account, project, boto):
    _model_archive(boto)
    (project / "models" / "serve.py").write_text("def input_handler(data, context):\n    return data\n")
    pipeline = _pipeline(
        account,
        image=None,
        instance=None,
        serverless=SERVERLESS,
        framework="tensorflow",
        framework_version="2.13",
        inference="models/serve.py",
    )
    _deploy(_target(pipeline, project, new_client()), pipeline, project, "a" * 64)
    container = boto["sagemaker"].describe_model(ModelName=CONFIG_A)["PrimaryContainer"]
    assert "tensorflow-inference" in container["Image"] and "cpu" in container["Image"]
    members = _members(boto, container["ModelDataUrl"])
    assert members["code/inference.py"] == members["code/serve.py"]  # the one name TF Serving reads


def _previous(result, fingerprint):
    return Previous(fingerprint=fingerprint, outputs=result.outputs, metrics={}, details=result.details, run_id=1)


def test_a_renamed_endpoint_deletes_the_old_one_and_only_what_it_alone_used(account, project, boto):
    first = _pipeline(account, endpoint_name="first")
    client = new_client(DeletingEndpoints, deleting_polls=2)
    before = _deploy(_target(first, project, client), first, project, "a" * 64)
    second = _pipeline(account, endpoint_name="second")
    target = _target(second, project, client)
    after = _deploy(target, second, project, "b" * 64)  # a rename changes the fingerprint: a config of its own
    ctx = make_ctx(second, "deploy", project, fingerprint="b" * 64, previous=_previous(before, "a" * 64))

    message = target.retire("endpoint", ctx)

    assert message == f"deleted endpoint first, endpoint config {CONFIG_A}, model {CONFIG_A}"
    assert client.deleting["first"] == 0  # waited until it was gone, like destroy
    sagemaker = boto["sagemaker"]
    assert [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]] == ["second"]
    configs = [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]]
    assert configs == [after.details["endpoint_config"]] != [CONFIG_A]
    assert after.outputs["endpoint_name"] == "second"
    assert target.retire("endpoint", ctx) == "endpoint first was already gone"  # a retried retire is harmless


def test_a_rename_that_shares_the_config_keeps_it_for_the_new_endpoint(account, project, boto):
    first = _pipeline(account, endpoint_name="first")
    client = new_client(DeletingEndpoints)
    before = _deploy(_target(first, project, client), first, project, "a" * 64)
    second = _pipeline(account, endpoint_name="second")
    target = _target(second, project, client)
    _deploy(target, second, project, "a" * 64)
    ctx = make_ctx(second, "deploy", project, fingerprint="a" * 64, previous=_previous(before, "a" * 64))

    assert target.retire("endpoint", ctx) == "deleted endpoint first"
    configs = boto["sagemaker"].list_endpoint_configs()["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in configs] == [CONFIG_A]  # "second" serves from it


def test_a_leftover_record_of_a_failed_rename_is_removed_by_the_next_destroy(account, project, boto):
    first = _pipeline(account, endpoint_name="first")
    client = new_client(DeletingEndpoints)
    before = _deploy(_target(first, project, client), first, project, "a" * 64)
    second = _pipeline(account, endpoint_name="second")
    target = _target(second, project, client)
    _deploy(target, second, project, "b" * 64)
    ctx = make_ctx(second, "deploy", project, fingerprint="a" * 64, previous=_previous(before, "a" * 64))
    leftover = replace(ctx, step="deploy.was.first")

    assert (
        target.destroy("endpoint", leftover) == f"deleted endpoint first, endpoint config {CONFIG_A}, model {CONFIG_A}"
    )
    assert [e["EndpointName"] for e in boto["sagemaker"].list_endpoints()["Endpoints"]] == ["second"]
