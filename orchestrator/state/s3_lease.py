"""The lock of S3 state: an object created only if absent, held under a lease its run renews.

Of two runs racing for `lock.json`, S3's If-None-Match: * lets exactly one create it.
The winner renews the lease every third of its length (a conditional PUT on the ETag it
last wrote), so a lock whose lease ran out belongs to a run that died or lost its network,
and `unlock` may remove it; a fresh lease, or a holder alive on this host, needs --force.
If the lock is removed or replaced under a run, that run notices at its next state write
and stops with a conflict instead of writing beside another run.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any

from .base import LockHeld, StateConflict, describe_holder

LEASE_S = 60.0  # a run renews every 20 s; a lock unrenewed for a minute has no live run behind it
_CONFLICT = ("PreconditionFailed", "412", "ConditionalRequestConflict", "NoSuchKey", "404")


class LeaseLock:
    def __init__(self, client, bucket: str, key: str, lease_s: float = LEASE_S):
        self.client, self.bucket, self.key, self.lease_s = client, bucket, key, lease_s
        self._etag: str | None = None  # of the lock as this run last wrote it; None when not held
        self._lost: str | None = None  # why the lock is no longer this run's
        self._guard = threading.Lock()  # a renewal and a check of the lock never overlap
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._holder: dict[str, Any] = {}
        self._seen_etag: str | None = None  # of the lock `holder()` last read: what `remove` may delete

    # -- holding ---------------------------------------------------------------------

    def acquire(self, command: str) -> None:
        now = time.time()
        self._holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": now,
            "renewed": now,
            "lease_s": self.lease_s,
            "command": command,
        }
        try:
            put = self._put(IfNoneMatch="*")
        except self.client.exceptions.ClientError as exc:
            if _code(exc) in _CONFLICT:
                raise LockHeld(
                    self.holder() or {},
                    "wait for that run to finish; if it died, remove its lock with python -m orchestrator unlock FILE",
                ) from None
            raise
        self._etag, self._lost = put["ETag"], None
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_until_released, name="s3-lock-lease", daemon=True)
        self._renewer.start()

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        with self._guard:
            etag, self._etag = self._etag, None
        if etag and not self._lost:
            try:  # delete only our own lock, never one taken after an unlock
                self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)
            except self.client.exceptions.ClientError:
                pass

    def renew(self) -> None:
        """Extend the lease (the renewer does it on its own; tests call it to be sure it happened)."""
        with self._guard:
            if self._etag is None or self._lost:
                return
            self._holder["renewed"] = time.time()
            try:
                self._etag = self._put(IfMatch=self._etag)["ETag"]
            except self.client.exceptions.ClientError as exc:
                if _code(exc) not in _CONFLICT:
                    raise
                self._lost = self._why_lost()

    def check(self, location: str) -> None:
        """Before a state write: is the lock still this run's? Raise StateConflict if not."""
        with self._guard:
            if self._etag is None:
                return  # not held by this handle (a reader, or a contract test writing directly)
            if not self._lost:
                try:
                    head = self.client.head_object(Bucket=self.bucket, Key=self.key)
                    if head["ETag"] != self._etag:
                        self._lost = self._why_lost()
                except self.client.exceptions.ClientError as exc:
                    if _code(exc) not in _CONFLICT:
                        raise
                    self._lost = "its lock was removed (with unlock?)"
            if self._lost:
                raise StateConflict(
                    f"this run no longer holds the lock of {location}: {self._lost}; "
                    "it stopped before writing beside another run"
                )

    def _renew_until_released(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self.renew()
            except Exception:  # a network hiccup: the next renewal, or the next write's check, tells
                continue
            if self._lost:
                return

    def _put(self, **condition: str) -> dict[str, Any]:
        body = json.dumps(self._holder).encode()
        return self.client.put_object(
            Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json", **condition
        )

    def _why_lost(self) -> str:
        other = self.holder()
        return f"{describe_holder(other)} now" if other else "its lock was removed (with unlock?)"

    # -- reading and breaking ----------------------------------------------------------

    def holder(self) -> dict[str, Any] | None:
        """The lock's holder, with `alive` (True/False on this host, None elsewhere) and `lease_fresh`."""
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except self.client.exceptions.NoSuchKey:
            self._seen_etag = None
            return None
        self._seen_etag = obj["ETag"]
        try:
            holder = json.loads(obj["Body"].read() or b"{}")
        except ValueError:
            holder = {}
        if not isinstance(holder, dict):
            holder = {}
        renewed, lease = holder.get("renewed"), holder.get("lease_s")
        fresh = isinstance(renewed, (int, float)) and isinstance(lease, (int, float)) and time.time() < renewed + lease
        return {**holder, "alive": _alive_here(holder), "lease_fresh": fresh}

    def remove(self) -> None:
        """Delete the lock `holder()` last read, and only that one: a lock taken since is not touched."""
        condition = {"IfMatch": self._seen_etag} if self._seen_etag else {}
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, **condition)
        except self.client.exceptions.ClientError as exc:
            if _code(exc) in _CONFLICT:
                raise LockHeld(
                    self.holder() or {}, "the lock changed since it was read: look again with unlock"
                ) from None
            raise


def _alive_here(holder: dict[str, Any]) -> bool | None:
    """Whether the holder's process lives, when it ran on this host (another host's pid cannot be checked)."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))
