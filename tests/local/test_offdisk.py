"""How the protocol keeps ${env:...} values off disk: where they are named, what the record keeps,
how a version-4 record is read, and what a daemon does with a record that lacks them."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from orchestrator.targets.local.daemon.client import DaemonError, Removal
from orchestrator.targets.local.daemon.protocol import (
    NEEDS_RUN,
    SCHEMA_VERSION,
    EndpointRequest,
    ProtocolError,
    ServiceRecord,
    put_body,
    services_document,
)
from orchestrator.targets.local.daemon.records import decode_put

from .conftest import site_spec, stop_daemon
from .test_protocol import version_1_record

SECRET = "offdisk-unit-3b8e61f0"


def endpoint(files, environment: dict[str, str]) -> EndpointRequest:
    return EndpointRequest(files["transform_model"].as_uri(), str(files["transform_inference"]), environment)


def test_the_client_names_where_the_values_are_and_the_record_keeps_null_there(files):
    request = endpoint(files, {"TOKEN": SECRET, "MODE": "plain", "AGAIN": SECRET})
    body = put_body(request, None, frozenset({SECRET, ""}))
    assert body["secrets"] == [["environment", "TOKEN"], ["environment", "AGAIN"]]
    assert body["spec"]["environment"]["TOKEN"] == SECRET  # the daemon needs it to serve
    spec, port, secrets = decode_put("endpoints", body)
    assert (spec, port) == (request, None)
    record = ServiceRecord(spec, 8080, secrets).to_json()
    assert record["spec"]["environment"] == {"TOKEN": None, "MODE": "plain", "AGAIN": None}
    assert record["secrets"] == [["environment", "TOKEN"], ["environment", "AGAIN"]]
    assert SECRET not in json.dumps(services_document({"endpoints": {"e": record}}))
    assert put_body(request, None)["secrets"] == []
    site = site_spec(files["site"], config={"apiUrl": SECRET})  # published in config.js: not a secret
    assert put_body(site, None, frozenset({SECRET}))["secrets"] == []


def test_secrets_that_name_no_string_of_the_request_are_refused(files):
    body = put_body(endpoint(files, {}), None)
    for secrets, named in ([["serverless"]], "['serverless']"), ([["environment", "NONE"]], "['environment', 'NONE']"):
        with pytest.raises(ProtocolError) as caught:
            decode_put("endpoints", {**body, "secrets": secrets})
        assert str(caught.value) == f"the request's secret {named} does not name a string of its spec"


def version_4_record(files, site_port: int) -> dict:
    """services.json as version 4 wrote it: every value in clear."""
    spec = {
        "model_uri": files["transform_model"].as_uri(),
        "inference": str(files["transform_inference"]),
        "environment": {"TOKEN": SECRET},
        "framework": None,
        "serverless": False,
        "region": "us-east-1",
        "autoscaling": None,
    }
    site = site_spec(files["site"])
    return {
        "schema_version": 4,
        "endpoints": {"ep-old": {"spec": spec, "port": 0}},
        "apis": {},
        "websites": {"site": {"spec": dataclasses.asdict(site), "port": site_port}},
    }


def test_a_version_4_record_is_served_then_kept_without_its_environment_values(daemons, files):
    client = daemons.new("v4")
    client.home.ensure()
    client.home.state_file.write_text(json.dumps(version_4_record(files, 0)))
    client.ensure_running()
    services = client.status()["services"]
    assert services["endpoints"]["ep-old"]["serving"] is True  # its values were there: served as before
    port = services["endpoints"]["ep-old"]["port"]
    record = json.loads(client.home.state_file.read_text())
    assert record["schema_version"] == SCHEMA_VERSION
    assert record["endpoints"]["ep-old"]["spec"]["environment"] == {"TOKEN": None}
    assert SECRET not in client.home.state_file.read_text()

    stop_daemon(client)  # the next daemon has no value for TOKEN: it parks the endpoint on its port
    client.ensure_running()
    services = client.status()["services"]
    assert services["endpoints"]["ep-old"] == {"port": port, "serving": False, "error": NEEDS_RUN}
    assert services["websites"]["site"]["serving"] is True
    answer = httpx.post(f"http://127.0.0.1:{port}/invocations", json={"x": 1}, timeout=30)
    assert (answer.status_code, answer.json()) == (503, {"message": f"endpoint ep-old {NEEDS_RUN}"})


def test_a_parked_service_stays_parked_when_its_put_fails_and_goes_when_deleted(daemons, files, tmp_path):
    client = daemons.new("parked")
    put = client.put("ep", endpoint(files, {"TOKEN": SECRET}), secret=frozenset({SECRET}))
    client.put("site", site_spec(files["site"]))
    stop_daemon(client)
    client.ensure_running()
    missing = EndpointRequest((tmp_path / "none.tar.gz").as_uri(), None, {"TOKEN": SECRET})
    with pytest.raises(DaemonError):
        client.put("ep", missing, secret=frozenset({SECRET}))
    url = f"http://127.0.0.1:{put.port}/invocations"
    assert httpx.post(url, json={"x": 1}, timeout=30).status_code == 503  # its port is still its own
    assert client.status()["services"]["endpoints"]["ep"]["error"] == NEEDS_RUN
    assert client.put("ep", endpoint(files, {"TOKEN": SECRET}), secret=frozenset({SECRET})).port == put.port
    assert httpx.post(url, json={"x": 2}, timeout=30).json() == {"y": 6, "accept": "application/json"}
    stop_daemon(client)
    client.ensure_running()
    assert client.delete("endpoints", "ep") is Removal.REMOVED
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, json={"x": 1}, timeout=5)
    assert "ep" not in json.loads(client.home.state_file.read_text())["endpoints"]


def test_an_older_record_set_aside_keeps_no_environment_value(daemons, files):
    client = daemons.new("older-scrubbed")
    client.home.ensure()
    old = version_1_record(files, 1)
    old["apis"]["old-api"]["step"]["routes"][0]["environment"] = {"TOKEN": SECRET}
    client.home.state_file.write_text(json.dumps(old))
    client.put("site", site_spec(files["site"]))
    aside = client.home.root / "services.v1.json"
    kept = json.loads(aside.read_text())
    old["apis"]["old-api"]["step"]["routes"][0]["environment"] = {"TOKEN": None}
    assert kept == old  # as found, but for the value
    assert SECRET not in aside.read_text()
