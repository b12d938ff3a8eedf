"""Talks to the pipeline's local cloud daemon, starting it when it is not running.

Standard library only: `plan` and `status` use it and must start fast.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .home import Home, read_json

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 120.0
PACKAGE_ROOT = Path(__file__).resolve().parents[3]  # the folder that holds `orchestrator/`


class DaemonError(Exception):
    """The daemon could not be reached or refused an operation; the message says why."""


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

    def stop(self) -> bool:
        """Stop the daemon (its services stop with it; their record stays for a restart)."""
        info = self.info()
        if info is None:
            return False
        try:
            self._call(info, "POST", "/stop")
        except DaemonError:
            os.kill(info["pid"], 15)
        return self.wait_stopped(info["pid"])

    # -- operations -----------------------------------------------------------------------
    def status(self) -> dict | None:
        """Services and their ports, or None when no daemon runs."""
        info = self.info()
        if info is None:
            return None
        return {"pid": info["pid"], **self._call(info, "GET", "/status")}

    def deploy_endpoint(self, name: str, model_uri: str, inference: str | None, environment: dict[str, str]) -> dict:
        spec = {"model_uri": model_uri, "inference": inference, "environment": environment}
        return self._put("endpoints", name, spec)

    def put_api(self, api_id: str, step: dict, base_dir: str, region: str) -> dict:
        return self._put("apis", api_id, {"step": step, "base_dir": base_dir, "region": region})

    def put_website(self, name: str, spec: dict) -> dict:
        return self._put("websites", name, spec)

    def delete_endpoint(self, name: str) -> bool:
        return self._delete("endpoints", name)

    def delete_api(self, api_id: str) -> bool:
        return self._delete("apis", api_id)

    def delete_website(self, name: str) -> bool:
        return self._delete("websites", name)

    def _put(self, kind: str, name: str, spec: dict) -> dict:
        info = self.ensure_running()
        return self._call(info, "PUT", f"/{kind}/{name}", spec)

    def _delete(self, kind: str, name: str) -> bool:
        """Delete a service; when it was the last one, wait until the daemon has exited."""
        info = self.info()
        if info is None:
            return False
        answer = self._call(info, "DELETE", f"/{kind}/{name}")
        if answer.get("stopping") and not self.wait_stopped(info["pid"]):
            raise DaemonError(
                f"the local cloud daemon (pid {info['pid']}) did not exit after its last service was removed"
            )
        return bool(answer.get("deleted"))

    def _call(
        self, info: dict, method: str, path: str, payload: Any = None, timeout: float = REQUEST_TIMEOUT_S
    ) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{info['port']}{path}",
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
