"""A local Lambda is isolated as on AWS: its bundle, its requirements, the runtime's boto3, its own
environment and credentials, its memory limit, and nothing else of this machine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import httpx
import pytest

from orchestrator.targets.local.lambdas.environment import RUNTIME_PATH

from .conftest import ENDPOINT, api_spec, api_step, lambda_route

GRANTED = "s3://lambda-data/granted/transform.json"


@pytest.fixture(scope="module")
def lambdas(cloud, files):
    client = cloud["client"]
    s3 = boto3.client(
        "s3",
        endpoint_url=client.s3_url(),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    if "lambda-data" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="lambda-data")
    s3.put_object(Bucket="lambda-data", Key="granted/transform.json", Body=b'{"scale": 2}')
    s3.put_object(Bucket="lambda-data", Key="other/secret.json", Body=b"TOP SECRET")
    routes = [
        lambda_route("GET", "/isolation", "isolation", runtime="python3.12", environment={"MINE": "yes"}),
        lambda_route("GET", "/read", "read_s3", s3_read=[GRANTED]),
        lambda_route("GET", "/hog", "hog", memory_mb=128),
        {
            "method": "GET",
            "path": "/chalice",
            "integration": "lambda",
            "handler": "chalice_api/app.py:app",
            "requirements": "chalice_api/requirements.txt",
            "endpoint": ENDPOINT,
        },
    ]
    api = client.put("api-lambdas", api_spec(api_step(routes, stage="iso"), files["root"]))
    with httpx.Client(base_url=f"http://127.0.0.1:{api.port}/iso", timeout=30) as http:
        yield http
    client.delete("apis", "api-lambdas")


def test_a_lambda_sees_only_its_bundle_its_layers_and_the_standard_library(lambdas, files):
    seen = lambdas.get("/isolation").json()
    bundle = Path(seen["env"]["LAMBDA_TASK_ROOT"])
    assert seen["cwd"] == str(bundle)
    assert sorted(p.name for p in bundle.iterdir()) == [".complete", "handlers.py"]  # never .env
    runtime_layer = Path(seen["boto3"]).parent
    stdlib = [p for p in sys.path if p.startswith(sys.base_prefix) and "site-packages" not in p]
    assert seen["path"] == [str(bundle), str(runtime_layer), *stdlib]
    assert not any("site-packages" in p for p in seen["path"])
    assert seen["found"] == {
        "boto3": True,  # the runtime's, as Lambda's Python runtimes include it
        "numpy": False,
        "pydantic": False,
        "orchestrator": False,
        "yaml": False,
        "starlette": False,
    }
    assert seen["flags"] == [1, 1]


def test_a_lambdas_environment_is_its_own_plus_lambdas_runtime_variables(lambdas, cloud):
    env = lambdas.get("/isolation").json()["env"]
    name = "api-lambdas-get-isolation"
    assert env.pop("AWS_ACCESS_KEY_ID").startswith("ASIA")
    assert env.pop("AWS_SECRET_ACCESS_KEY") and env.pop("AWS_SESSION_TOKEN")
    task_root = env.pop("LAMBDA_TASK_ROOT")
    assert env.pop("AWS_CONFIG_FILE").startswith(task_root)  # not this machine's ~/.aws
    assert env.pop("AWS_SHARED_CREDENTIALS_FILE").startswith(task_root)
    assert Path(env.pop("LAMBDA_RUNTIME_DIR"), "bootstrap.py").is_file()
    assert env.pop("AWS_LAMBDA_LOG_STREAM_NAME").endswith("/[$LATEST]local")
    if env.get("LC_CTYPE") == "C.UTF-8":
        del env["LC_CTYPE"]  # Python's own locale coercion (PEP 538) where en_US.UTF-8 is not installed
    assert env == {
        "MINE": "yes",
        "ENDPOINT_NAME": ENDPOINT,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": f"http://127.0.0.1:{cloud['endpoint_port']}",
        "AWS_ENDPOINT_URL_S3": cloud["client"].s3_url(),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "_HANDLER": "handlers.isolation",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": RUNTIME_PATH,
        "PYTHONUNBUFFERED": "1",
    }


def test_s3_read_is_enforced_with_the_functions_own_credentials(lambdas):
    granted = lambdas.get("/read", params={"bucket": "lambda-data", "key": "granted/transform.json"}).json()
    assert granted == {"body": '{"scale": 2}'}
    for key in ("other/secret.json", "granted/missing.json"):
        denied = lambdas.get("/read", params={"bucket": "lambda-data", "key": key}).json()
        assert denied["error"]["Code"] == "AccessDenied", key


def test_a_chalice_app_whose_requirements_lack_chalice_fails_on_import_as_on_aws(lambdas, cloud):
    answer = lambdas.get("/chalice")
    assert (answer.status_code, answer.json()) == (502, {"message": "Internal server error"})
    log = cloud["log"].read_text()
    assert "Runtime.ImportModuleError: Unable to import module 'app': No module named 'chalice'" in log


def test_a_function_over_its_memory_is_killed_and_the_next_call_gets_a_fresh_worker(lambdas, cloud):
    assert lambdas.get("/hog", params={"mb": "16"}).json() == {"held_mb": 16}
    answer = lambdas.get("/hog", params={"mb": "300", "hold": "5"})
    assert (answer.status_code, answer.json()) == (502, {"message": "Internal server error"})
    log = cloud["log"].read_text()
    assert "Memory Size: 128 MB Max Memory Used:" in log
    assert "Runtime.OutOfMemory" in log
    assert lambdas.get("/hog", params={"mb": "16"}).json() == {"held_mb": 16}


def test_requirements_are_installed_once_into_a_cached_environment(files, tmp_path, monkeypatch):
    from orchestrator.spec.models import ApiStep
    from orchestrator.targets.local.gateway.handler import api_request

    monkeypatch.setenv("ORCHESTRATOR_CACHE_DIR", str(tmp_path / "cache"))
    step = ApiStep.model_validate(
        api_step([lambda_route("GET", "/x", "echo", requirements="chalice_api/requirements.txt")])
    )
    shown: list[str] = []
    first = api_request(step, files["root"], "us-east-1", tmp_path / "bundles", show=shown.append)
    layers = first.functions[0].code.layers
    assert len(layers) == 2 and (Path(layers[0]) / "slugify").is_dir()  # the requirements' env, then boto3
    assert any("installing requirements.txt" in line for line in shown)
    assert any("python-slugify" in line for line in shown)  # the installer's own lines, as progress
    shown.clear()
    again = api_request(step, files["root"], "us-east-1", tmp_path / "bundles", show=shown.append)
    assert again.functions[0].code == first.functions[0].code
    assert shown == [f"requirements.txt: installed before (cache {Path(layers[0]).name})"]
    runtime = json.dumps(sorted(p.name for p in Path(layers[1]).iterdir()))
    assert "boto3" in runtime and "botocore" in runtime
