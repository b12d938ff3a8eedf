"""The port a local website keeps is settled before the site exists, and the daemon's record wins after."""

from __future__ import annotations

from orchestrator.targets.local.daemon.home import Home, write_json_atomic
from orchestrator.targets.local.daemon.protocol import services_document
from orchestrator.targets.local.storage import origins


def test_a_reserved_port_is_kept_until_released(tmp_path):
    home = Home(tmp_path)
    assert origins.known_port(home, "demo-site") is None  # what a plan reads: nothing decided
    port = origins.settle_port(home, "demo-site")
    assert origins.settle_port(home, "demo-site") == port == origins.known_port(home, "demo-site")
    other = origins.settle_port(home, "demo-other")
    assert other != port and origins.known_port(home, "demo-site") == port
    origins.release(home, "demo-site")
    assert origins.known_port(home, "demo-site") is None and origins.known_port(home, "demo-other") == other
    assert origins.site_origin(port) == f"http://127.0.0.1:{port}"  # no path, no trailing slash


def test_the_daemons_record_wins_over_a_reservation(tmp_path):
    home = Home(tmp_path)
    origins.settle_port(home, "demo-site")
    spec = {"source": "/x", "index": "index.html", "error": "error.html", "config_file": "config.js", "config": {}}
    write_json_atomic(home.state_file, services_document({"websites": {"demo-site": {"spec": spec, "port": 4321}}}))
    assert origins.known_port(home, "demo-site") == 4321 == origins.settle_port(home, "demo-site")


def test_an_unreadable_record_is_as_none(tmp_path):
    home = Home(tmp_path)
    home.ensure()
    home.state_file.write_text('{"schema_version": 1}')  # another version: the daemon restores none of it either
    assert origins.known_port(home, "demo-site") is None
