"""The local cloud's per-service logs: small JSON-lines files that rotate, as CloudWatch would keep them.

One file per service under `<state>/local/logs/`: `training/<job>`, `endpoints/<name>`,
`lambdas/<function>` and `access/<api>` (the gateway's access log). Each line is one event,
`{"ts": epoch seconds, "message": ..., "request_id": ...}` plus a few fields of its own
(an access entry has method, path, status, latency_ms). A file past MAX_BYTES becomes
`<name>.log.1` (the one before it is dropped), so a busy service never fills the disk.
Every message passes the service's redactor first: values from the environment never
reach a log file. Standard library only: `logs` on the client side reads these.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_BYTES = 1024 * 1024  # per file; one older file is kept beside it
MASK = "****"
SECRET_MIN_LENGTH = 6  # shorter values ("1", "true") are settings, not keys; masking them would garble the log
GROUPS = ("training", "endpoints", "lambdas", "access")


def log_file(root: Path, group: str, name: str) -> Path:
    """Where one service's log is: `root` is the local cloud's folder (`<state>/local`)."""
    return root / "logs" / group / f"{name}.log"


class Redactor:
    """Masks the values a service was given in its environment wherever they appear in its log."""

    def __init__(self, values: Iterable[str] = ()):
        self.values = sorted({v for v in values if len(v) >= SECRET_MIN_LENGTH}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text


class LogWriter:
    """Appends events to one service's file, rotating it past `max_bytes`; safe across threads.

    The file stays open between events (a request writes several: opening it for each cost
    more than the rest of the line); one stat per event still sees another writer's lines
    and a rotation or removal of the file, and the next event then goes to the new file."""

    def __init__(self, path: Path, redact: Redactor | None = None, max_bytes: int = MAX_BYTES):
        self.path, self.redact, self.max_bytes = path, redact or Redactor(), max_bytes
        self._lock = threading.Lock()
        self._file = None  # unbuffered, append-only: one write per event
        self._inode: int | None = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, message: str, request_id: str | None = None, **fields: Any) -> None:
        event: dict[str, Any] = {"ts": round(time.time(), 6), "message": self.redact(message)}
        if request_id:
            event["request_id"] = request_id
        event.update({k: self.redact(v) if isinstance(v, str) else v for k, v in fields.items()})
        line = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                stat = os.stat(self.path)
                if stat.st_size + len(line) > self.max_bytes:
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                    self._inode = None
                elif stat.st_ino != self._inode:
                    self._inode = None
            except FileNotFoundError:
                self._inode = None
            if self._inode is None:
                if self._file is not None:
                    self._file.close()
                    self._file = None
                try:
                    self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 (kept open on purpose)
                except FileNotFoundError:  # the state folder was deleted: the daemon is stopping, nothing to keep
                    return
                self._inode = os.fstat(self._file.fileno()).st_ino
            self._file.write(line)


@dataclass
class LambdaLines:
    """Lambda's log lines carry the id of the invocation they belong to: the runtime's START line
    opens it, END closes it (one worker runs one invocation at a time)."""

    writer: LogWriter
    current: str | None = None

    def line(self, text: str) -> None:
        if text.startswith("START RequestId: "):
            self.current = text.split()[2]
        self.writer.write(text, self.current)
        if text.startswith("REPORT RequestId: "):
            self.current = None


async def pump_lines(stream, write) -> None:
    """Read an asyncio stream (a process's stderr) line by line into `write` until it ends."""
    while True:
        line = await stream.readline()
        if not line:
            return
        write(line.decode("utf-8", "replace").rstrip("\r\n"))


# -- reading ---------------------------------------------------------------------------------


@dataclass
class FileCursor:
    """Where reading one service's log got to: events after `offset` of the current file are new."""

    path: Path
    source: str  # shown beside each event: "endpoint", "lambda POST /predict", "access"
    offset: int = 0
    inode: int | None = None
    started: bool = False


@dataclass
class LocalFeed:
    """New events of some services' logs, in time order, each call after the last (for `logs --follow`)."""

    cursors: list[FileCursor]
    since: float | None = None

    def poll(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for cursor in self.cursors:
            events.extend(self._read(cursor))
        events.sort(key=lambda e: e.get("ts", 0))
        return events

    def _read(self, cursor: FileCursor) -> list[dict[str, Any]]:
        try:
            stat = cursor.path.stat()
        except FileNotFoundError:
            return []
        events: list[dict[str, Any]] = []
        rotated = cursor.path.with_name(cursor.path.name + ".1")
        if not cursor.started or (cursor.inode is not None and stat.st_ino != cursor.inode):
            # First read: the older file too. A rotation since the last read: the rest of the old file.
            if rotated.exists():
                events.extend(_events(rotated, cursor.offset if cursor.started else 0, cursor.source)[0])
            cursor.offset = 0
        cursor.started, cursor.inode = True, stat.st_ino
        if stat.st_size < cursor.offset:
            cursor.offset = 0
        fresh, cursor.offset = _events(cursor.path, cursor.offset, cursor.source)
        events.extend(fresh)
        return [e for e in events if self.since is None or e.get("ts", 0) >= self.since]


def _events(path: Path, offset: int, source: str) -> tuple[list[dict[str, Any]], int]:
    """The whole lines after `offset`, and the offset after them (a line still being written is read next time)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for raw in data[:end].splitlines():
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append({"source": source, **event})
    return events, offset + end
