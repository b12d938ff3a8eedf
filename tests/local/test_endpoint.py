"""The SageMaker container contract and the runtime InvokeEndpoint API, through boto3."""

from __future__ import annotations

import json

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from orchestrator.targets.local.daemon.protocol import EndpointRequest

from .conftest import ENDPOINT


def runtime(port: int):
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_ping_and_invocations_follow_the_container_contract(cloud):
    base = f"http://127.0.0.1:{cloud['endpoint_port']}"
    assert httpx.get(f"{base}/ping").status_code == 200
    answer = httpx.post(f"{base}/invocations", json={"instances": [[0.0], [3.0]]})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"predictions": [0, 1]}


def test_invocations_accept_a_plain_list_and_csv(cloud):
    base = f"http://127.0.0.1:{cloud['endpoint_port']}"
    assert httpx.post(f"{base}/invocations", json=[[3.0]]).json() == {"predictions": [1]}
    answer = httpx.post(
        f"{base}/invocations", content="0\n3\n", headers={"Content-Type": "text/csv", "Accept": "text/csv"}
    )
    assert (answer.status_code, answer.headers["content-type"], answer.text) == (200, "text/csv", "0\n1\n")


def test_boto3_invoke_endpoint_works_unchanged(cloud, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", f"http://127.0.0.1:{cloud['endpoint_port']}")
    client = boto3.client(
        "sagemaker-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    answer = client.invoke_endpoint(
        EndpointName=ENDPOINT,
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps({"instances": [[0.5], [2.5]]}),
    )
    assert json.loads(answer["Body"].read()) == {"predictions": [0, 1]}
    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-invoked-production-variant"] == "AllTraffic"
    assert answer["ResponseMetadata"]["RequestId"]


def test_any_endpoint_port_answers_the_runtime_for_every_endpoint(cloud):
    answer = runtime(cloud["custom_port"]).invoke_endpoint(
        EndpointName=ENDPOINT, ContentType="application/json", Body='{"instances": [[3]]}'
    )
    assert json.loads(answer["Body"].read()) == {"predictions": [1]}


def test_unknown_endpoint_is_a_validation_error(cloud):
    with pytest.raises(ClientError) as caught:
        runtime(cloud["endpoint_port"]).invoke_endpoint(EndpointName="nope", Body=b"{}")
    error = caught.value.response
    assert error["Error"] == {"Code": "ValidationError", "Message": "Endpoint nope of account 123456789012 not found."}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert type(caught.value).__name__ == "ValidationError"


def test_a_failing_handler_is_a_model_error_424(cloud):
    client = runtime(cloud["endpoint_port"])
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="application/json", Body=b'{"rows": 1}')
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Code"] == "ModelError"
    assert error["Error"]["Message"] == (
        "Received client error (400) from primary with message "
        '"cannot parse the application/json body: expected {"instances": [...]} or a JSON list". '
        "See the daemon log for more information."
    )
    assert error["OriginalStatusCode"] == 400


def test_a_content_type_the_defaults_cannot_read_is_415(cloud):
    client = runtime(cloud["endpoint_port"])
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png", Body=b"\x89PNG")
    assert caught.value.response["OriginalStatusCode"] == 415
    assert "content type image/png is not supported by the default input_fn" in str(caught.value)


def test_custom_handlers_get_custom_attributes_and_choose_the_content_type(cloud):
    answer = runtime(cloud["custom_port"]).invoke_endpoint(
        EndpointName="ep-custom",
        ContentType="application/json",
        Body='{"instances": [[0], [3]]}',
        CustomAttributes="trace=42",
    )
    assert answer["Body"].read() == b"labels:0,1"
    assert answer["ContentType"] == "text/plain"
    assert answer["CustomAttributes"] == "seen=trace=42"


def test_transform_fn_receives_the_default_accept_from_the_environment(cloud):
    answer = runtime(cloud["transform_port"]).invoke_endpoint(
        EndpointName="ep-transform", ContentType="application/json", Body='{"x": 2}'
    )
    assert json.loads(answer["Body"].read()) == {"y": 6, "accept": "application/x-default"}


def test_deploying_an_unloadable_model_is_refused_with_the_reason(cloud, files):
    from orchestrator.targets.local.daemon.client import DaemonError

    with pytest.raises(DaemonError) as caught:
        cloud["client"].put("ep-broken", EndpointRequest(files["transform_model"].as_uri(), None, {}))
    assert str(caught.value) == (
        "no model file in the archive: expected one matching *.joblib, *.pkl, *.pickle, model.*, "
        "or define model_fn(model_dir) in the inference module"
    )
    with pytest.raises(DaemonError) as caught:
        cloud["client"].put("ep-broken", EndpointRequest((files["root"] / "none.tar.gz").as_uri(), None, {}))
    assert str(caught.value) == f"model artifact not found: {files['root'] / 'none.tar.gz'}"
    assert "ep-broken" not in cloud["client"].status()["services"]["endpoints"]
    with pytest.raises(DaemonError):  # a failed redeploy leaves the live model serving
        cloud["client"].put(ENDPOINT, EndpointRequest(files["transform_model"].as_uri(), None, {}))
    answer = httpx.post(f"http://127.0.0.1:{cloud['endpoint_port']}/invocations", json=[[3.0]])
    assert answer.json() == {"predictions": [1]}


def test_the_container_answers_with_its_own_status_codes(cloud):
    base = f"http://127.0.0.1:{cloud['endpoint_port']}"
    bad = httpx.post(f"{base}/invocations", content=b"not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("cannot parse the application/json body: ")
    unknown = httpx.get(f"{base}/elsewhere")
    assert (unknown.status_code, unknown.json()) == (404, {"message": "no route for GET /elsewhere"})


def test_an_archive_with_code_inference_py_is_served_by_it(cloud, files, tmp_path):
    from .project_files import packed_code_model

    answer = cloud["client"].put("ep-packed", EndpointRequest(packed_code_model(tmp_path).as_uri(), None, {}))
    reply = httpx.post(f"http://127.0.0.1:{answer.port}/invocations", content=b"{}")
    assert reply.json() == {"served_by": "packed"}
    cloud["client"].delete("endpoints", "ep-packed")


def test_a_built_in_algorithm_model_is_served_by_its_stand_in(cloud, tmp_path):
    from .project_files import builtin_knn_model

    answer = cloud["client"].put("ep-knn", EndpointRequest(builtin_knn_model(tmp_path).as_uri(), None, {}))
    client = runtime(answer.port)
    reply = client.invoke_endpoint(
        EndpointName="ep-knn", ContentType="application/json", Body='{"instances": [{"features": [2.9]}]}'
    )
    assert json.loads(reply["Body"].read()) == {"predictions": [{"predicted_label": 1.0}]}
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(EndpointName="ep-knn", ContentType="image/png", Body=b"x")
    assert caught.value.response["OriginalStatusCode"] == 400
    cloud["client"].delete("endpoints", "ep-knn")
