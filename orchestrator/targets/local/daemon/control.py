"""The daemon's control API: token-protected JSON on 127.0.0.1, used only by client.py.

The same port also answers the SageMaker runtime API for any endpoint, which is where
a Lambda route is pointed while its endpoint does not exist (it then gets the
runtime's own "endpoint not found" error, as on AWS).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re

from ..asgi import ClientGone, Request, read_body, respond_json
from ..serving.endpoint import RuntimeApi
from ..serving.inference import ModelLoadError
from .cloud import Cloud
from .parked import answer_needs_run
from .protocol import RUNTIME_PREFIX, RUNTIME_SUFFIX, SERVICES, ProtocolError
from .records import decode_put
from .servers import PortInUse

log = logging.getLogger("orchestrator.local.control")
IDLE_AFTER_HOLD_S = 2.0  # a released hold with nothing served: the next step may still come soon
_SERVICE = re.compile(rf"^/({'|'.join(SERVICES)})/([A-Za-z0-9_.-]{{1,128}})$")


class ControlApp:
    def __init__(self, cloud: Cloud, token: str, stop: asyncio.Event, idle_grace_s: float):
        self.cloud = cloud
        self.token = token
        self.stop = stop
        self.idle_grace_s = idle_grace_s
        self.runtime = RuntimeApi(cloud.registry)
        self._idle_timer: asyncio.TimerHandle | None = None

    def watch_idle(self, grace_s: float) -> None:
        """Exit when no service is left, so nothing keeps running after destroy."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self.cloud.empty():
            self._idle_timer = asyncio.get_running_loop().call_later(grace_s, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        if self.cloud.empty() and not self.cloud.lock.locked():
            log.info("no services left: stopping")
            self.stop.set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"].startswith(RUNTIME_PREFIX) and scope["method"] == "POST":
            endpoint = scope["path"].removeprefix(RUNTIME_PREFIX).removesuffix(RUNTIME_SUFFIX)
            if self.cloud.needs_run("endpoints", endpoint):  # its callers learn why it does not answer
                await answer_needs_run(send, "endpoints", endpoint)
                return
            await self.runtime(scope, receive, send)
            return
        request = Request.from_scope(scope)
        supplied = (request.header("authorization") or "").removeprefix("Bearer ")
        if not hmac.compare_digest(supplied.encode(), self.token.encode()):
            await respond_json(send, 401, {"error": "missing or wrong control token"})
            return
        if request.path == "/hold" and request.method == "POST":
            await self._hold(receive, send)
            return
        try:
            body = await read_body(receive)
        except ClientGone:
            return
        try:
            payload = json.loads(body) if body else {}
        except json.JSONDecodeError:
            await respond_json(send, 400, {"error": "body is not JSON"})
            return
        status, answer = await self._dispatch(request.method, request.path, payload)
        await respond_json(send, status, answer)

    async def _hold(self, receive, send) -> None:
        """Keep the cloud up while the caller's connection is open (a training job needs its S3).

        The answer's headers go out at once; its body ends only when the caller hangs up
        or the daemon stops, so a caller that dies releases its hold with its socket. A daemon
        already stopping refuses (503): the caller waits for it to exit and starts a fresh one."""
        if self.stop.is_set():
            await respond_json(send, 503, {"error": "the local cloud is stopping"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"held\n", "more_body": True})
        self.cloud.holds += 1
        self.watch_idle(self.idle_grace_s)
        waiter = asyncio.ensure_future(self.stop.wait())
        try:
            while True:
                message = asyncio.ensure_future(receive())
                done, _ = await asyncio.wait({message, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if waiter in done:
                    message.cancel()
                    break
                if message.result()["type"] == "http.disconnect":
                    break
        finally:
            waiter.cancel()
            self.cloud.holds -= 1
            self.watch_idle(IDLE_AFTER_HOLD_S)
        try:
            await send({"type": "http.response.body", "body": b""})
        except Exception:  # the caller is gone; nothing to tell it
            pass

    async def _dispatch(self, method: str, path: str, payload: dict) -> tuple[int, dict]:
        cloud = self.cloud
        if path == "/status" and method == "GET":
            return 200, {"services": cloud.status(), "notices": list(cloud.notices)}
        if path == "/stop" and method == "POST":
            self.stop.set()
            return 200, {"stopping": True}
        match = _SERVICE.match(path)
        if match is None or method not in ("PUT", "DELETE"):
            return 404, {"error": f"no control operation {method} {path}"}
        service, name = match.groups()
        async with cloud.lock:
            try:
                if method == "PUT":
                    spec, port, secrets = decode_put(service, payload)
                    port = await cloud.put(service, name, spec, port, secrets)
                    answer = {"name": name, "port": port, "notices": list(cloud.untold_notices())}
                else:
                    answer = {"name": name, "deleted": await cloud.delete(service, name)}
            except (ModelLoadError, FileNotFoundError, ProtocolError) as exc:
                log.error("%s %s failed: %s", method, path, exc)
                status, answer = 422, {"error": str(exc)}
            except PortInUse as exc:
                status, answer = 409, {"error": str(exc)}
            except Exception as exc:
                log.exception("%s %s failed", method, path)
                status, answer = 500, {"error": f"{type(exc).__name__}: {exc}"}
            else:
                status = 200
        self.watch_idle(0.2 if method == "DELETE" else self.idle_grace_s)
        answer["stopping"] = cloud.empty()
        return status, answer
