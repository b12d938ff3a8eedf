"""The daemon's services and their durable record: what runs, on which port, from what.

Every change is applied first and recorded after, atomically, so the state file only
ever names services that really came up; a restarted daemon replays it on the same ports.
A record of another schema version is never replayed: it is set aside and reported.
Values that came from ${env:...} are held in memory only; a record restored without
them is parked (parked.py) until the next PUT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from ..gateway.gateway import Gateway
from ..gateway.http11 import RawHeaderServer
from ..serving.endpoint import EndpointRegistry
from ..serving.inference import ModelLoadError
from ..storage.access import Access
from ..storage.layout import split_s3_uri
from ..storage.s3api import S3Api
from ..storage.store import ObjectStore, S3Error
from ..storage.website import Website, publish
from .home import Home, write_json_atomic
from .offdisk import FieldPath, without_environments
from .parked import NeedsRun
from .protocol import (
    NEEDS_RUN,
    SERVICES,
    ApiRequest,
    EndpointRequest,
    ProtocolError,
    RecordVersionError,
    ServiceRecord,
    WebsiteRequest,
    local_url,
    read_services,
    services_document,
)
from .records import SecretsMissing, decode_record
from .servers import HttpServer, bind

log = logging.getLogger("orchestrator.local.cloud")
SERVERS = {"apis": RawHeaderServer}  # the HTTP server of a service, where it is not uvicorn's


class Switch:
    """An ASGI app whose target can be replaced while its server keeps its port."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


class Cloud:
    def __init__(self, home: Home, log_fd: int, control_port: int, s3_port: int):
        self.home = home
        self.log_fd = log_fd
        self.control_port = control_port  # also answers the runtime API, for endpoints that do not exist
        self.s3_port = s3_port
        self.store = ObjectStore(home.s3_dir)
        self.access = Access()
        self.s3 = S3Api(self.store, self.access)
        self.registry = EndpointRegistry(home.models_dir, home.groups_file, home.root, control_port, local_url(s3_port))
        self.holds = 0  # clients (a training job) that need the local cloud up though it serves nothing
        self.records: dict[str, dict[str, ServiceRecord]] = {service: {} for service in SERVICES}
        self.unreadable: dict[str, dict[str, Any]] = {service: {} for service in SERVICES}  # kept as found
        self.parked: dict[str, dict[str, Any]] = {service: {} for service in SERVICES}  # restored without secrets
        self.placeholders: dict[tuple[str, str], HttpServer] = {}  # a parked service's port, answering 503
        self.failed: dict[str, str] = {}
        self.notices: list[str] = []  # in every status; each also once in the next PUT's answer
        self._told = 0
        self.servers: dict[tuple[str, str], tuple[HttpServer | RawHeaderServer, Switch]] = {}
        self.gateways: dict[str, Gateway] = {}
        self.lock = asyncio.Lock()
        self._background: set[asyncio.Task] = set()  # drains of replaced gateways
        self._draining: set[Gateway] = set()
        # What a PUT and a DELETE of each service do (the control API and restore use these).
        self.puts = {"endpoints": self.put_endpoint, "apis": self.put_api, "websites": self.put_website}
        self.deletes = {"endpoints": self.delete_endpoint, "apis": self.delete_api, "websites": self.delete_website}

    # -- record ---------------------------------------------------------------------------
    def save(self) -> None:
        document = {
            service: {
                **self.unreadable[service],
                **self.parked[service],
                **{n: r.to_json() for n, r in self.records[service].items()},
            }
            for service in SERVICES
        }
        write_json_atomic(self.home.state_file, services_document(document))

    def empty(self) -> bool:
        """No service to serve and nobody holding the cloud up: the daemon may exit."""
        kept = (self.records, self.unreadable, self.parked)
        return not self.holds and not any(entries for kept_by in kept for entries in kept_by.values())

    def untold_notices(self) -> tuple[str, ...]:
        fresh = tuple(self.notices[self._told :])
        self._told = len(self.notices)
        return fresh

    async def restore(self) -> None:
        for service, entries in self._read_record().items():
            for name, raw in entries.items():
                try:
                    record = decode_record(service, name, raw)
                except SecretsMissing:
                    log.warning("%s/%s restored without serving: %s", service, name, NEEDS_RUN)
                    await self._park(service, name, raw)
                    continue
                except ProtocolError as exc:
                    log.error("not restoring %s/%s: %s", service, name, exc)
                    self.failed[f"{service}/{name}"] = f"{type(exc).__name__}: {exc}"
                    self.unreadable[service][name] = raw
                    continue
                try:
                    await self.puts[service](name, record.spec, record.port, record.secrets)
                except Exception as exc:  # one broken service must not keep the others down
                    log.exception("restoring %s %s failed", service, name)
                    self.failed[f"{service}/{name}"] = f"{type(exc).__name__}: {exc}"
                    self.records[service][name] = record
        self.save()

    def _read_record(self) -> dict[str, dict[str, Any]]:
        """What services.json says to restore; a file this version cannot read is set aside, never replayed."""
        path = self.home.state_file
        try:
            return read_services(path) or {}
        except ProtocolError as exc:
            found = exc.found if isinstance(exc, RecordVersionError) else None
            aside = path.with_name(f"services.v{found}.json" if isinstance(found, int) else "services.unreadable.json")
            os.replace(path, aside)
            if isinstance(exc, RecordVersionError) and not exc.newer:
                self._scrub(aside)
            notice = (
                f"the local cloud restored none of its services: {exc}. The file is kept as {aside.name}; "
                "run the pipeline again to deploy them"
            )
            if isinstance(exc, RecordVersionError) and exc.newer:
                notice += ", or use the newer orchestrator that wrote it"
            log.error("%s", notice)
            self.notices.append(notice)
            return {}

    @staticmethod
    def _scrub(aside: Path) -> None:
        """An older record set aside keeps its shape but not its environments' values: versions
        before 5 wrote values from ${env:...} in clear, and this file is never read again."""
        try:
            data = json.loads(aside.read_text())
        except (OSError, ValueError):
            return
        scrubbed = without_environments(data)
        if scrubbed != data:
            write_json_atomic(aside, scrubbed)

    # -- parked services ------------------------------------------------------------------
    async def _park(self, service: str, name: str, raw: dict) -> None:
        """Keep the record and its port; answer 503 there until a PUT brings its values."""
        self.parked[service][name] = raw
        port = raw.get("port") if isinstance(raw.get("port"), int) else None
        try:
            server = HttpServer(NeedsRun(service, name), bind(port or 0))
        except OSError as exc:  # the port is someone else's now: the record still says what to do
            log.warning("%s/%s: no placeholder on port %s: %s", service, name, port, exc)
            return
        await server.start()
        self.placeholders[(service, name)] = server

    async def _unpark(self, service: str, name: str) -> None:
        """Free a parked service's port for what is put there now (its record stays until replaced)."""
        server = self.placeholders.pop((service, name), None)
        if server is not None:
            await server.stop()

    def needs_run(self, service: str, name: str) -> bool:
        return name in self.parked[service]

    async def put(
        self, service: str, name: str, spec: Any, port: int | None, secrets: tuple[FieldPath, ...] = ()
    ) -> int:
        """PUT one service, taking a parked one's port back first (and giving it back on failure)."""
        parked = self.parked[service].get(name)
        await self._unpark(service, name)
        try:
            return await self.puts[service](name, spec, port, secrets)
        except BaseException:
            if parked is not None and name in self.parked[service]:
                await self._park(service, name, parked)
            raise

    async def delete(self, service: str, name: str) -> bool:
        await self._unpark(service, name)
        return await self.deletes[service](name)

    # -- servers --------------------------------------------------------------------------
    async def _serve(self, service: str, name: str, app, port: int | None) -> int:
        """Point the service's server at `app`, starting one (on `port` if known) if needed.
        APIs get the server that keeps header names as sent, as API Gateway passes them."""
        existing = self.servers.get((service, name))
        if existing is not None:
            existing[1].app = app
            return existing[0].port
        switch = Switch(app)
        server = SERVERS.get(service, HttpServer)(switch, bind(port or 0))
        await server.start()
        self.servers[(service, name)] = (server, switch)
        return server.port

    async def _unserve(self, service: str, name: str) -> None:
        entry = self.servers.pop((service, name), None)
        if entry is not None:
            await entry[0].stop()

    def _port(self, service: str, name: str, asked: int | None) -> int | None:
        """The port a service must keep: the one asked for, else the one it had."""
        existing = self.records[service].get(name)
        parked = self.parked[service].get(name) or {}
        return asked or (existing.port if existing else parked.get("port"))

    def _recorded(self, service: str, name: str, record: ServiceRecord) -> None:
        self.records[service][name] = record
        self.unreadable[service].pop(name, None)
        self.parked[service].pop(name, None)
        self.failed.pop(f"{service}/{name}", None)

    def _forget(self, service: str, name: str) -> bool:
        found = self.records[service].pop(name, None) is not None
        found = self.unreadable[service].pop(name, None) is not None or found
        found = self.parked[service].pop(name, None) is not None or found
        self.failed.pop(f"{service}/{name}", None)
        return found

    def runtime_url(self, endpoint: str) -> str:
        record = self.records["endpoints"].get(endpoint)
        return local_url(record.port if record else self.control_port)

    # -- endpoints ------------------------------------------------------------------------
    def model_file(self, uri: str) -> str:
        """An s3:// model of the local S3 as the path of its data file; other URIs as they are."""
        if not uri.startswith("s3://"):
            return uri
        bucket, key = split_s3_uri(uri)
        try:
            return str(self.store.data_file(bucket, self.store.head(bucket, key)))
        except S3Error:
            raise ModelLoadError(f"model artifact not found in the local S3: {uri}") from None

    async def put_endpoint(self, name: str, spec: EndpointRequest, port: int | None = None, secrets=()) -> int:
        model_file = self.model_file(spec.model_uri)
        new = name not in self.registry.endpoints
        port = await self.registry.deploy(name, spec, model_file, self._port("endpoints", name, port))
        self._recorded("endpoints", name, ServiceRecord(spec, port, secrets))
        if new:
            await self._rewire_apis(name)
        self.save()
        return port

    async def _rewire_apis(self, endpoint: str) -> None:
        """Lambda routes learn where an endpoint is (or that it is gone), as a redeployed function would."""
        for api_id, record in list(self.records["apis"].items()):
            if api_id in self.gateways and any(f.endpoint == endpoint for f in record.spec.functions):
                await self.put_api(api_id, record.spec, record.port, record.secrets)

    async def delete_endpoint(self, name: str) -> bool:
        found = self._forget("endpoints", name)
        await self.registry.remove(name)
        if found:
            await self._rewire_apis(name)  # now answered "not found" by the runtime, not a dead port
        self.save()
        return found

    # -- apis -----------------------------------------------------------------------------
    async def put_api(self, api_id: str, spec: ApiRequest, port: int | None = None, secrets=()) -> int:
        gateway = Gateway(
            api_id, spec, self.registry, self.runtime_url, self.home.root, local_url(self.s3_port), self.access
        )
        port = await self._serve("apis", api_id, gateway, self._port("apis", api_id, port))
        old = self.gateways.pop(api_id, None)
        self.gateways[api_id] = gateway
        gateway.warm()
        if old is not None:  # requests already inside the old gateway are still answered
            self._draining.add(old)
            task = asyncio.get_running_loop().create_task(old.drain())
            self._background.add(task)
            task.add_done_callback(lambda t: (self._background.discard(t), self._draining.discard(old)))
        self._recorded("apis", api_id, ServiceRecord(spec, port, secrets))
        self.save()
        return port

    async def delete_api(self, api_id: str) -> bool:
        found = self._forget("apis", api_id)
        await self._unserve("apis", api_id)
        gateway = self.gateways.pop(api_id, None)
        if gateway is not None:
            await gateway.close()
        self.save()
        return found

    # -- websites -------------------------------------------------------------------------
    async def put_website(self, name: str, spec: WebsiteRequest, port: int | None = None, secrets=()) -> int:
        if not Path(spec.source).is_dir():
            raise FileNotFoundError(f"website source folder not found: {spec.source}")
        await asyncio.to_thread(publish, self.store, name, spec)
        port = await self._serve("websites", name, Website(self.store, name), self._port("websites", name, port))
        self._recorded("websites", name, ServiceRecord(spec, port, secrets))
        self.save()
        return port

    async def delete_website(self, name: str) -> bool:
        found = self._forget("websites", name)
        await self._unserve("websites", name)
        if name in self.store.buckets:
            self.store.delete_bucket(name, force=True)
        self.save()
        return found

    # -- whole ----------------------------------------------------------------------------
    def status(self) -> dict:
        services = {}
        for service in SERVICES:
            ports = {name: record.port for name, record in self.records[service].items()}
            ports.update(
                {
                    name: raw.get("port") if isinstance(raw, dict) else None
                    for kept in (self.unreadable, self.parked)
                    for name, raw in kept[service].items()
                }
            )
            services[service] = {
                name: {
                    "port": port,
                    "serving": (service, name) in self.servers or name in self.registry.endpoints,
                    "error": NEEDS_RUN if name in self.parked[service] else self.failed.get(f"{service}/{name}"),
                }
                for name, port in ports.items()
            }
        for name, entry in services["endpoints"].items():
            stats = self.registry.stats(name)
            if stats is not None:
                entry["stats"] = stats.to_json()
        return services

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        gateways = [*self.gateways.values(), *self._draining]
        await asyncio.gather(*(gateway.close() for gateway in gateways))
        await asyncio.gather(*(self._unserve(*key) for key in list(self.servers)))
        await asyncio.gather(*(self._unpark(*key) for key in list(self.placeholders)))
        await self.registry.close()
        shutil.rmtree(self.home.models_dir, ignore_errors=True)
