"""The daemon's services and their durable record: what runs, on which port, from what.

Every change is applied first and recorded after, atomically, so the state file only
ever names services that really came up; a restarted daemon replays it on the same ports.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ....spec.models import ApiStep
from ..gateway.gateway import Gateway
from ..serving.endpoint import EndpointApp, EndpointRegistry
from ..storage.website import SiteSpec, Website
from .home import Home, read_json, write_json_atomic
from .servers import HttpServer, bind

log = logging.getLogger("orchestrator.local.cloud")
KINDS = ("endpoints", "apis", "websites")
SCHEMA_VERSION = 1


class Switch:
    """An ASGI app whose target can be replaced while its server keeps its port."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


class Cloud:
    def __init__(self, home: Home, log_fd: int, runtime_fallback: Callable[[], str]):
        self.home = home
        self.log_fd = log_fd
        self.runtime_fallback = runtime_fallback
        self.registry = EndpointRegistry(home.models_dir)
        self.records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.failed: dict[str, str] = {}
        self.servers: dict[tuple[str, str], tuple[HttpServer, Switch]] = {}
        self.gateways: dict[str, Gateway] = {}
        self.lock = asyncio.Lock()
        self._background: set[asyncio.Task] = set()  # drains of replaced gateways
        self._draining: set[Gateway] = set()

    # -- record ---------------------------------------------------------------------------
    def save(self) -> None:
        write_json_atomic(self.home.state_file, {"schema_version": SCHEMA_VERSION, **self.records})

    def empty(self) -> bool:
        return not any(self.records.values())

    async def restore(self) -> None:
        saved = read_json(self.home.state_file) or {}
        for kind, put in (("endpoints", self.put_endpoint), ("apis", self.put_api), ("websites", self.put_website)):
            for name, record in (saved.get(kind) or {}).items():
                try:
                    await put(name, record)
                except Exception as exc:  # one broken service must not keep the others down
                    log.exception("restoring %s %s failed", kind, name)
                    self.failed[f"{kind}/{name}"] = f"{type(exc).__name__}: {exc}"
                    self.records[kind][name] = record
        self.save()

    # -- servers --------------------------------------------------------------------------
    async def _serve(self, kind: str, name: str, app, port: int | None) -> int:
        """Point the service's server at `app`, starting one (on `port` if known) if needed."""
        existing = self.servers.get((kind, name))
        if existing is not None:
            existing[1].app = app
            return existing[0].port
        switch = Switch(app)
        server = HttpServer(switch, bind(port or 0))
        await server.start()
        self.servers[(kind, name)] = (server, switch)
        return server.port

    async def _unserve(self, kind: str, name: str) -> None:
        entry = self.servers.pop((kind, name), None)
        if entry is not None:
            await entry[0].stop()

    def runtime_url(self, endpoint: str) -> str:
        record = self.records["endpoints"].get(endpoint)
        return f"http://127.0.0.1:{record['port']}" if record else self.runtime_fallback()

    # -- endpoints ------------------------------------------------------------------------
    async def put_endpoint(self, name: str, spec: dict) -> dict:
        model, model_dir = await self.registry.load(
            name, spec["model_uri"], spec.get("inference"), spec.get("environment") or {}
        )
        existing = self.records["endpoints"].get(name)
        port = spec.get("port") or (existing or {}).get("port")
        app = EndpointApp(self.registry, name)
        new = ("endpoints", name) not in self.servers
        if new:
            try:
                port = await self._serve("endpoints", name, app, port)
            except BaseException:
                shutil.rmtree(model_dir, ignore_errors=True)
                raise
        self.registry.swap(name, port, model, model_dir)
        record = {**spec, "port": port}
        self.records["endpoints"][name] = record
        self.failed.pop(f"endpoints/{name}", None)
        if new:
            await self._rewire_apis(name)
        self.save()
        return record

    async def _rewire_apis(self, endpoint: str) -> None:
        """Lambda routes learn where an endpoint is (or that it is gone), as a redeployed function would."""
        for api_id, record in list(self.records["apis"].items()):
            routes = record["step"]["routes"]
            if api_id in self.gateways and any(
                r["integration"] == "lambda" and r["endpoint"] == endpoint for r in routes
            ):
                await self.put_api(api_id, record)

    async def delete_endpoint(self, name: str) -> bool:
        found = self.records["endpoints"].pop(name, None) is not None
        await self._unserve("endpoints", name)
        self.registry.remove(name)
        self.failed.pop(f"endpoints/{name}", None)
        if found:
            await self._rewire_apis(name)  # now answered "not found" by the runtime, not a dead port
        self.save()
        return found

    # -- apis -----------------------------------------------------------------------------
    async def put_api(self, api_id: str, spec: dict) -> dict:
        step = ApiStep.model_validate(spec["step"])
        gateway = Gateway(
            api_id,
            step,
            Path(spec["base_dir"]),
            spec.get("region", "us-east-1"),
            self.registry,
            self.runtime_url,
            self.log_fd,
        )
        existing = self.records["apis"].get(api_id)
        port = await self._serve("apis", api_id, gateway, spec.get("port") or (existing or {}).get("port"))
        old = self.gateways.pop(api_id, None)
        self.gateways[api_id] = gateway
        gateway.warm()
        if old is not None:  # requests already inside the old gateway are still answered
            self._draining.add(old)
            task = asyncio.get_running_loop().create_task(old.drain())
            self._background.add(task)
            task.add_done_callback(lambda t: (self._background.discard(t), self._draining.discard(old)))
        record = {**spec, "port": port}
        self.records["apis"][api_id] = record
        self.failed.pop(f"apis/{api_id}", None)
        self.save()
        return record

    async def delete_api(self, api_id: str) -> bool:
        found = self.records["apis"].pop(api_id, None) is not None
        await self._unserve("apis", api_id)
        gateway = self.gateways.pop(api_id, None)
        if gateway is not None:
            await gateway.close()
        self.failed.pop(f"apis/{api_id}", None)
        self.save()
        return found

    # -- websites -------------------------------------------------------------------------
    async def put_website(self, name: str, spec: dict) -> dict:
        source = Path(spec["source"])
        if not source.is_dir():
            raise FileNotFoundError(f"website source folder not found: {source}")
        site = Website(
            SiteSpec(
                source=source,
                index=spec.get("index", "index.html"),
                error=spec.get("error", "error.html"),
                config_file=spec.get("config_file", "config.js"),
                config=spec.get("config") or {},
            )
        )
        existing = self.records["websites"].get(name)
        port = await self._serve("websites", name, site, spec.get("port") or (existing or {}).get("port"))
        record = {**spec, "port": port}
        self.records["websites"][name] = record
        self.failed.pop(f"websites/{name}", None)
        self.save()
        return record

    async def delete_website(self, name: str) -> bool:
        found = self.records["websites"].pop(name, None) is not None
        await self._unserve("websites", name)
        self.failed.pop(f"websites/{name}", None)
        self.save()
        return found

    # -- whole ----------------------------------------------------------------------------
    def status(self) -> dict:
        services = {}
        for kind in KINDS:
            services[kind] = {
                name: {
                    "port": record.get("port"),
                    "serving": (kind, name) in self.servers,
                    "error": self.failed.get(f"{kind}/{name}"),
                }
                for name, record in self.records[kind].items()
            }
        return services

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        gateways = [*self.gateways.values(), *self._draining]
        await asyncio.gather(*(gateway.close() for gateway in gateways))
        await asyncio.gather(*(self._unserve(*key) for key in list(self.servers)))
        self.registry.close()
        shutil.rmtree(self.home.models_dir, ignore_errors=True)
