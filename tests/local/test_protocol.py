"""The daemon protocol: typed requests, one place for URLs, and a record of another version never replayed."""

from __future__ import annotations

import ast
import dataclasses
import json
import sys
from pathlib import Path

import pytest

from orchestrator.apidoc import ApiValues, compile_document
from orchestrator.spec.models import ApiStep
from orchestrator.targets.local.daemon.client import DaemonError, Removal
from orchestrator.targets.local.daemon.protocol import (
    SCHEMA_VERSION,
    EndpointRequest,
    ProtocolError,
    RecordVersionError,
    api_url,
    invocations_url,
    read_services,
    service_of,
    website_url,
)

from .conftest import api_spec, lambda_route, site_spec, stop_daemon

OLD_NOTICE = (
    "the local cloud restored none of its services: services.json has schema_version 1 (by an older "
    "orchestrator); this orchestrator reads version 5. The file is kept as services.v1.json; "
    "run the pipeline again to deploy them"
)
NEW_NOTICE = (
    "the local cloud restored none of its services: services.json has schema_version 6 (by a newer "
    "orchestrator); this orchestrator reads version 5. The file is kept as services.v6.json; "
    "run the pipeline again to deploy them, or use the newer orchestrator that wrote it"
)


def version_1_record(files, port: int) -> dict:
    """services.json as the daemon wrote it before the protocol was typed: an API was its whole spec step."""
    step = {"type": "api", "stage": "prod", "routes": [lambda_route("POST", "/predict", "predict")]}
    return {
        "schema_version": 1,
        "endpoints": {},
        "apis": {"old-api": {"step": step, "base_dir": str(files["root"]), "region": "us-east-1", "port": port}},
        "websites": {},
    }


def test_the_client_side_imports_only_the_standard_library():
    """plan and status import the client: it must start fast, whatever the daemon side needs."""
    daemon = Path(__file__).resolve().parents[2] / "orchestrator" / "targets" / "local" / "daemon"
    for module in ("client.py", "protocol.py", "home.py", "offdisk.py"):
        tree = ast.parse((daemon / module).read_text())
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
        }
        relative = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level}
        assert imported <= sys.stdlib_module_names | {"__future__"}, module
        assert relative <= {"home", "protocol", "offdisk"}, module


def test_urls_are_built_in_one_place():
    assert invocations_url(8080, "ep") == "http://127.0.0.1:8080/endpoints/ep/invocations"
    assert api_url(8081, "prod") == "http://127.0.0.1:8081/prod"
    assert website_url(8082) == "http://127.0.0.1:8082/"
    assert service_of(EndpointRequest("file:///m.tar.gz", None, {})) == "endpoints"
    with pytest.raises(ProtocolError) as caught:
        service_of({"model_uri": "file:///m.tar.gz"})
    assert str(caught.value) == "dict is not a request for a local service"


def test_reading_a_record_names_its_version(tmp_path, files):
    path = tmp_path / "services.json"
    assert read_services(path) is None
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "endpoints": {"e": {"spec": {}, "port": 1}}}))
    assert read_services(path) == {"endpoints": {"e": {"spec": {}, "port": 1}}, "apis": {}, "websites": {}}
    for content, message in [
        (
            version_1_record(files, 1),
            "services.json has schema_version 1 (by an older orchestrator); this orchestrator reads version 5",
        ),
        (
            {"endpoints": {}},
            "services.json has no schema_version (not a record this orchestrator wrote); "
            "this orchestrator reads version 5",
        ),
    ]:
        path.write_text(json.dumps(content))
        with pytest.raises(RecordVersionError) as caught:
            read_services(path)
        assert str(caught.value) == message
    path.write_text("{not json")
    with pytest.raises(ProtocolError) as caught:
        read_services(path)
    assert str(caught.value).startswith("services.json is not JSON: ")


def test_an_older_record_is_set_aside_and_said_so_on_the_next_deploy_and_in_status(daemons, files, tmp_path):
    client = daemons.new("older")
    client.home.ensure()
    old = version_1_record(files, 1)
    client.home.state_file.write_text(json.dumps(old))
    answer = client.put("site", site_spec(files["site"]))
    assert answer.notices == (OLD_NOTICE,)
    status = client.status()
    assert status["notices"] == [OLD_NOTICE]
    assert status["services"] == {
        "endpoints": {},
        "apis": {},  # the old API is not served from a record this version cannot read
        "websites": {"site": {"port": answer.port, "serving": True, "error": None}},
    }
    assert json.loads((client.home.root / "services.v1.json").read_text()) == old
    record = json.loads(client.home.state_file.read_text())
    assert record["schema_version"] == SCHEMA_VERSION
    assert sorted(record["websites"]) == ["site"]
    assert OLD_NOTICE in client.home.log_file.read_text()
    assert client.put("site", site_spec(files["site"])).notices == ()  # said once per daemon


def test_a_newer_record_is_never_overwritten_nor_edited(daemons, files):
    client = daemons.new("newer")
    client.home.ensure()
    newer = {**version_1_record(files, 1), "schema_version": 6}
    client.home.state_file.write_text(json.dumps(newer))
    with pytest.raises(DaemonError) as caught:
        client.delete("apis", "old-api")  # no daemon runs: the client would edit the record itself
    assert str(caught.value) == (
        f"cannot update the local cloud's record {client.home.state_file}: services.json has schema_version 6 "
        "(by a newer orchestrator); this orchestrator reads version 5; use the newer orchestrator that wrote it"
    )
    assert json.loads(client.home.state_file.read_text()) == newer
    assert client.put("site", site_spec(files["site"])).notices == (NEW_NOTICE,)
    assert json.loads((client.home.root / "services.v6.json").read_text()) == newer


def test_destroy_without_a_daemon_leaves_an_older_record_alone(daemons, files):
    client = daemons.new("older-destroy")
    client.home.ensure()
    old = version_1_record(files, 1)
    client.home.state_file.write_text(json.dumps(old))
    assert client.delete("apis", "old-api") is Removal.ABSENT  # this version never restores it
    assert json.loads(client.home.state_file.read_text()) == old


def test_a_record_that_does_not_decode_is_reported_kept_and_the_rest_restored(daemons, files):
    client = daemons.new("undecodable")
    site = client.put("site", site_spec(files["site"]))
    stop_daemon(client)
    record = json.loads(client.home.state_file.read_text())
    record["endpoints"]["broken"] = {"spec": {"model_uri": "file:///m.tar.gz"}, "port": 1}
    client.home.state_file.write_text(json.dumps(record))
    client.ensure_running()
    services = client.status()["services"]
    assert services["websites"]["site"] == {"port": site.port, "serving": True, "error": None}
    assert services["endpoints"]["broken"]["serving"] is False
    assert services["endpoints"]["broken"]["error"] == (
        "ProtocolError: the record of endpoints/broken is not a valid EndpointRequest: "
        "inference: Field required; environment: Field required"
    )
    kept = json.loads(client.home.state_file.read_text())["endpoints"]["broken"]
    assert kept == {"spec": {"model_uri": "file:///m.tar.gz"}, "port": 1}
    assert client.delete("endpoints", "broken") is Removal.REMOVED


def test_a_request_of_the_wrong_shape_is_refused_with_its_fields(cloud):
    client = cloud["client"]
    info = client.info()
    with pytest.raises(DaemonError) as caught:
        client._call(info, "PUT", "/endpoints/bad", {"spec": {"model_uri": 3, "extra": 1}, "port": None})
    assert str(caught.value) == (
        "the request is not a valid EndpointRequest: model_uri: Input should be a valid string; "
        "inference: Field required; environment: Field required; extra: Unexpected keyword argument"
    )
    with pytest.raises(DaemonError) as caught:
        client._call(info, "PUT", "/websites/bad", {"spec": {}, "port": "80"})
    assert str(caught.value) == "port must be null or a TCP port, got '80'"


def test_an_api_request_carries_every_value_the_gateway_uses(files):
    """The daemon gets the API's OpenAPI document (the one `export` prints, with local ARNs),
    the functions its integrations name, and the stage's settings: never the spec step."""
    step = {"type": "api", "routes": [lambda_route("POST", "/p", "predict", s3_read=["s3://b/k"])]}
    request = api_spec(step, files["root"])
    code = request.functions[0].code
    assert Path(code.bundle).parent == files["root"] / ".bundles"
    assert len(code.layers) == 1 and (Path(code.layers[0]) / "boto3").is_dir()  # no requirements: the runtime only
    arn = "arn:aws:lambda:us-east-1:123456789012:function:post-p"
    values = ApiValues(title="local-prod", region="us-east-1", lambda_arns={"POST /p": arn})
    document = compile_document(ApiStep.model_validate(step), values)
    assert dataclasses.asdict(request) == {
        "stage": "prod",
        "document": document,
        "functions": (
            {
                "arn": arn,
                "method": "POST",
                "path": "/p",
                "endpoint": "ep-main",
                "memory_mb": 256,
                "environment": {},
                "code": {
                    "bundle": code.bundle,
                    "handler": "handlers.predict",
                    "layers": code.layers,
                    "runtime": "python3.12",
                    "s3_read": ("s3://b/k",),
                },
                "cors": None,  # the api has no cors: block, so its answers get no CORS header
            },
        ),
        "throttle": {"rate_limit": 50.0, "burst_limit": 100},
        "api_key": None,
        "base_dir": str(files["root"]),
        "region": "us-east-1",
    }
    integration = request.document["paths"]["/p"]["post"]["x-amazon-apigateway-integration"]
    assert integration["uri"].endswith(f"/functions/{arn}/invocations")
