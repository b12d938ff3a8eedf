"""Talks to the pipeline's local cloud daemon, starting it when it is not running.

Standard library only: `plan` and `status` use it and must start fast.
"""

from __future__ import annotations

import enum
import fcntl
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .home import Home, read_json, write_json_atomic
from .protocol import (
    HOST,
    DeleteAnswer,
    ProtocolError,
    PutAnswer,
    RecordVersionError,
    ServiceRequest,
    local_url,
    put_body,
    read_answer,
    read_services,
    service_of,
    service_path,
    services_document,
)

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 120.0
PACKAGE_ROOT = Path(__file__).resolve().parents[4]  # the folder that holds `orchestrator/`


class DaemonError(Exception):
    """The daemon could not be reached or refused an operation; the message says why."""


class Removal(enum.Enum):
    """What deleting a service did."""

    REMOVED = "removed"  # the daemon stopped serving it and dropped it from its record
    RECORD_REMOVED = "record removed"  # no daemon ran: its record is deleted, so no restart brings it back
    ABSENT = "absent"  # neither a daemon nor the record knew it


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (reaping our own child if it is)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


class DaemonClient:
    def __init__(self, home: Path):
        self.home = Home(home)

    # -- lifecycle ------------------------------------------------------------------------
    def info(self) -> dict | None:
        """pid and control port of a live daemon, else None."""
        info = read_json(self.home.daemon_file)
        if not info or not pid_alive(int(info.get("pid", 0))):
            return None
        return info

    def ensure_running(self) -> dict:
        self.home.ensure()
        with self._start_lock():
            info = self.info()
            if info is not None and self._ping(info):
                return info
            return self._start()

    @contextmanager
    def _start_lock(self):
        with open(self.home.lock_file, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _start(self) -> dict:
        self.home.token()
        self.home.daemon_file.unlink(missing_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.home.log_file, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "orchestrator.targets.local.daemon", str(self.home.root)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home.root,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DaemonError(
                    f"the local cloud daemon exited with code {process.returncode} while starting.\n{self.log_tail()}"
                )
            info = read_json(self.home.daemon_file)
            if info and info.get("pid") == process.pid and self._ping(info):
                return info
            time.sleep(0.05)
        process.kill()
        process.wait()
        raise DaemonError(f"the local cloud daemon did not become ready in {START_TIMEOUT_S:.0f} s.\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.home.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return f"(no log at {self.home.log_file})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"last lines of {self.home.log_file}:\n{tail}"

    def _ping(self, info: dict) -> bool:
        try:
            self._call(info, "GET", "/status", timeout=2.0)
        except DaemonError:
            return False
        return True

    def wait_stopped(self, pid: int, timeout: float = STOP_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    # -- the local S3 -----------------------------------------------------------------------
    def s3_url(self) -> str:
        """The local S3's endpoint URL (AWS_ENDPOINT_URL_S3), starting the local cloud if needed."""
        return local_url(self.ensure_running()["s3_port"])

    @contextmanager
    def hold(self):
        """Keep the local cloud up while the block runs, though it may serve nothing (a training
        job reads and writes its S3); yields the S3 endpoint URL. The hold is the open connection,
        so a process that dies releases it."""
        import http.client  # here, not at the top: plan and status import this module and must start fast

        for attempt in (1, 2):
            info = self.ensure_running()
            connection = http.client.HTTPConnection(HOST, info["port"], timeout=REQUEST_TIMEOUT_S)
            try:
                connection.request("POST", "/hold", headers={"Authorization": f"Bearer {self.home.token()}"})
                response = connection.getresponse()
                if response.status == 200 and response.read(5) == b"held\n":
                    break
                if response.status == 503 and attempt == 1:  # it was stopping: let it go, start it again
                    connection.close()
                    self.wait_stopped(info["pid"])
                    continue
                raise DaemonError(f"the local cloud daemon refused to stay up: HTTP {response.status}")
            except OSError as exc:  # it was exiting just then: start it again, once
                connection.close()
                if attempt == 2:
                    raise DaemonError(f"cannot reach the local cloud daemon on port {info['port']}: {exc}") from exc
        try:
            connection.sock.settimeout(None)
            yield local_url(info["s3_port"])
        finally:
            connection.close()

    # -- operations -----------------------------------------------------------------------
    def status(self) -> dict | None:
        """{"pid", "services": {service: {name: {"port", "serving", "error"}}}, "notices": [...]}, or None
        when no daemon runs. The notices say what the daemon could not restore, and why."""
        info = self.info()
        if info is None:
            return None
        return {"pid": info["pid"], **self._call(info, "GET", "/status")}

    def put(
        self, name: str, request: ServiceRequest, port: int | None = None, secret: frozenset[str] = frozenset()
    ) -> PutAnswer:
        """Serve `request` as the service `name` (replacing what it served), on `port` if given.
        The `secret` values (from ${env:...}) are served but never written to disk."""
        info = self.ensure_running()
        body = put_body(request, port, secret)
        answer = self._call(info, "PUT", service_path(service_of(request), name), body)
        return self._read(PutAnswer, answer)

    def delete(self, service: str, name: str) -> Removal:
        """Delete a service; when it was the last one, wait until the daemon has exited.

        With no daemon running, the service's entry is removed from the durable record
        instead: otherwise the next daemon start would bring the service back. The start
        lock is held throughout, so no daemon starts from the record while it changes.
        """
        if not self.home.root.is_dir():
            return Removal.ABSENT  # nothing was ever deployed here; create nothing
        with self._start_lock():
            info = self.info()
            if info is None:
                return self._forget(service, name)
            answer = self._read(DeleteAnswer, self._call(info, "DELETE", service_path(service, name)))
            if answer.stopping and not self.wait_stopped(info["pid"]):
                raise DaemonError(
                    f"the local cloud daemon (pid {info['pid']}) did not exit after its last service was removed"
                )
        return Removal.REMOVED if answer.deleted else Removal.ABSENT

    @staticmethod
    def _read(cls: type, answer: dict) -> Any:
        try:
            return read_answer(cls, answer)
        except ProtocolError as exc:
            raise DaemonError(f"the local cloud daemon answered in another protocol: {exc}") from exc

    def _forget(self, service: str, name: str) -> Removal:
        """Drop a service from the record a stopped daemon would restore; call under the start lock."""
        path = self.home.state_file
        try:
            services = read_services(path)
        except RecordVersionError as exc:
            if exc.newer:
                raise DaemonError(
                    f"cannot update the local cloud's record {path}: {exc}; use the newer orchestrator that wrote it"
                ) from exc
            return Removal.ABSENT  # a daemon of this version never restores an older record
        except (OSError, ProtocolError) as exc:
            raise DaemonError(f"cannot read the local cloud's record {path}: {exc}") from exc
        if services is None or name not in services[service]:
            return Removal.ABSENT
        del services[service][name]
        try:
            write_json_atomic(path, services_document(services))
        except OSError as exc:
            raise DaemonError(f"cannot update the local cloud's record {path}: {exc}") from exc
        return Removal.RECORD_REMOVED

    def _call(
        self, info: dict, method: str, path: str, payload: Any = None, timeout: float = REQUEST_TIMEOUT_S
    ) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        import urllib.error  # here, not at the top: plan and status import this module and must start fast
        import urllib.request

        request = urllib.request.Request(
            local_url(info["port"], path),
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.home.token()}", "Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error") or str(exc)
            except ValueError:
                message = str(exc)
            raise DaemonError(message) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DaemonError(f"cannot reach the local cloud daemon on port {info['port']}: {exc}") from exc
