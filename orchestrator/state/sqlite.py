"""Run state in an embedded SQLite database under the pipeline's state folder.

WAL journal with full sync and one transaction per record, so a kill at any
moment leaves the last committed state. The lock is an OS file lock: the kernel
releases it when its holder dies, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .base import (
    SCHEMA_VERSION,
    LiveModel,
    LockHeld,
    Resource,
    RunRecord,
    StateStore,
    StateVersionError,
    StepRun,
)
from .folder import ensure_gitignore, make_private_folder

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, target TEXT NOT NULL,
    status TEXT NOT NULL, command TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL,
    error TEXT, failed_step TEXT);
CREATE TABLE IF NOT EXISTS step_runs (
    run_id INTEGER NOT NULL REFERENCES runs(id), step TEXT NOT NULL, kind TEXT NOT NULL,
    action TEXT NOT NULL, status TEXT NOT NULL, fingerprint TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL, outputs TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}', details TEXT NOT NULL DEFAULT '{}', message TEXT NOT NULL DEFAULT '',
    error TEXT, PRIMARY KEY (run_id, step));
CREATE TABLE IF NOT EXISTS resources (
    step TEXT PRIMARY KEY, kind TEXT NOT NULL, fingerprint TEXT NOT NULL, components TEXT NOT NULL,
    outputs TEXT NOT NULL, metrics TEXT NOT NULL, details TEXT NOT NULL, run_id INTEGER NOT NULL,
    updated_at REAL NOT NULL, target TEXT NOT NULL DEFAULT '', resolved TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS live_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT, step TEXT NOT NULL, run_id INTEGER NOT NULL, model TEXT NOT NULL,
    metrics TEXT NOT NULL, data_fingerprint TEXT NOT NULL, since REAL NOT NULL, until REAL, reason TEXT NOT NULL);
"""

DB_NAME = "state.db"
LOCK_NAME = "lock"


class SqliteStore(StateStore):
    def __init__(self, folder: Path, create: bool = True):
        self.folder = folder
        self.location = str(folder / DB_NAME)
        self._conn: sqlite3.Connection | None = None
        self._create = create

    # -- connection ---------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return (self.folder / DB_NAME).exists()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            if self._create:
                make_private_folder(self.folder)
                ensure_gitignore(self.folder)
            # check_same_thread=False: steps running at once record from their threads, one call at a time
            # (the executor serializes them)
            conn = sqlite3.connect(self.folder / DB_NAME, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._conn = conn
            self._migrate()
        return self._conn

    def _migrate(self) -> None:
        conn = self._conn
        assert conn is not None
        with _tx(conn):
            for statement in DDL.strip().split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                conn.execute("INSERT INTO meta VALUES ('serial', '0')")
            elif int(row["value"]) > SCHEMA_VERSION:
                raise StateVersionError(self.location, int(row["value"]))
            elif int(row["value"]) < 2:
                # Schema 1 kept a resource's target and resolved-inputs digest inside `details`.
                conn.execute("ALTER TABLE resources ADD COLUMN target TEXT NOT NULL DEFAULT ''")
                conn.execute("ALTER TABLE resources ADD COLUMN resolved TEXT NOT NULL DEFAULT ''")
                for r in conn.execute("SELECT step, details FROM resources").fetchall():
                    details = json.loads(r["details"])
                    target, resolved = details.pop("target", ""), details.pop("resolved", "")
                    conn.execute(
                        "UPDATE resources SET target=?, resolved=?, details=? WHERE step=?",
                        (target or "", resolved or "", _j(details), r["step"]),
                    )
                conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._db()
        with _tx(conn):
            yield conn
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='serial'")

    def serial(self) -> int:
        row = self._db().execute("SELECT value FROM meta WHERE key='serial'").fetchone()
        return int(row["value"])

    # -- lock -------------------------------------------------------------------

    @contextmanager
    def lock(self, command: str) -> Iterator[None]:
        make_private_folder(self.folder)
        path = self.folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeld(holder, "wait for that run to finish; the lock is released when it exits") from None
        try:
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), "command": command}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def lock_holder(self) -> dict[str, Any] | None:
        """The kernel releases a dead holder's lock, so a held lock always has a live holder."""
        path = self.folder / LOCK_NAME
        if not path.exists():
            return None
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return {**_read_holder(fd), "alive": True}
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def break_lock(self) -> None:
        """Nothing to break: a file lock never outlives its process."""

    def never_used(self) -> bool:
        """No folder: no run ever recorded anything, and none holds the lock (a run makes the folder first)."""
        return self._conn is None and not self.folder.exists()

    # -- runs -------------------------------------------------------------------

    def begin_run(self, pipeline: str, target: str, command: str) -> RunRecord:
        now = time.time()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (pipeline, target, status, command, started_at) VALUES (?, ?, 'running', ?, ?)",
                (pipeline, target, command, now),
            )
        return RunRecord(
            id=cur.lastrowid, pipeline=pipeline, target=target, status="running", command=command, started_at=now
        )

    def finish_run(self, run_id: int, status: str, error: str | None = None, failed_step: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET status=?, finished_at=?, error=?, failed_step=? WHERE id=?",
                (status, time.time(), error, failed_step, run_id),
            )

    def step_started(self, attempt: StepRun) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO step_runs (run_id, step, kind, action, status, fingerprint, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    attempt.run_id,
                    attempt.step,
                    attempt.kind,
                    attempt.action,
                    attempt.status,
                    attempt.fingerprint,
                    attempt.started_at,
                ),
            )

    def step_finished(
        self,
        run_id: int,
        step: str,
        status: str,
        *,
        outputs: dict | None = None,
        metrics: dict | None = None,
        details: dict | None = None,
        message: str = "",
        error: str | None = None,
        resource: Resource | None = None,
        remove_resource: bool = False,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE step_runs SET status=?, finished_at=?, outputs=?, metrics=?, details=?, message=?, error=? "
                "WHERE run_id=? AND step=?",
                (status, time.time(), _j(outputs), _j(metrics), _j(details), message, error, run_id, step),
            )
            if resource is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO resources (step, kind, fingerprint, components, outputs, metrics, "
                    "details, run_id, updated_at, target, resolved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        resource.step,
                        resource.kind,
                        resource.fingerprint,
                        _j(resource.components),
                        _j(resource.outputs),
                        _j(resource.metrics),
                        _j(resource.details),
                        resource.run_id,
                        resource.updated_at,
                        resource.target,
                        resource.resolved,
                    ),
                )
            if remove_resource:
                conn.execute("DELETE FROM resources WHERE step=?", (step,))

    def owner(self) -> str | None:
        """The pipeline this state belongs to: the one its runs were of (None before any run)."""
        if not self._readable():
            return None
        row = self._db().execute("SELECT pipeline FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return row["pipeline"] if row else None

    def resources(self) -> dict[str, Resource]:
        if not self._readable():
            return {}
        rows = self._db().execute("SELECT * FROM resources ORDER BY step").fetchall()
        return {
            r["step"]: Resource.from_record(
                {**dict(r), **{key: json.loads(r[key]) for key in ("components", "outputs", "metrics", "details")}}
            )
            for r in rows
        }

    def runs(self, limit: int = 20) -> list[RunRecord]:
        if not self._readable():
            return []
        rows = self._db().execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [RunRecord(**dict(r)) for r in rows]

    def step_runs(self, run_id: int) -> list[StepRun]:
        if not self._readable():
            return []
        rows = self._db().execute("SELECT * FROM step_runs WHERE run_id=? ORDER BY started_at, rowid", (run_id,))
        out = []
        for r in rows:
            d = dict(r)
            for key in ("outputs", "metrics", "details"):
                d[key] = json.loads(d[key])
            out.append(StepRun(**d))
        return out

    def mark_interrupted(self) -> list[int]:
        if not self._readable():
            return []
        ids = [r["id"] for r in self._db().execute("SELECT id FROM runs WHERE status='running'")]
        if ids:
            with self._write() as conn:
                for run_id in ids:
                    conn.execute(
                        "UPDATE step_runs SET status='interrupted', finished_at=?, "
                        "error='the run was killed while this step ran' "
                        "WHERE run_id=? AND status='running'",
                        (time.time(), run_id),
                    )
                    conn.execute(
                        "UPDATE runs SET status='interrupted', finished_at=COALESCE(finished_at, ?), "
                        "error=COALESCE(error, 'the run was killed') WHERE id=?",
                        (time.time(), run_id),
                    )
        return ids

    # -- lineage ----------------------------------------------------------------

    def set_live(self, live: LiveModel) -> None:
        with self._write() as conn:
            conn.execute("UPDATE live_models SET until=? WHERE step=? AND until IS NULL", (live.since, live.step))
            conn.execute(
                "INSERT INTO live_models (step, run_id, model, metrics, data_fingerprint, since, until, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                (live.step, live.run_id, live.model, _j(live.metrics), live.data_fingerprint, live.since, live.reason),
            )

    def live_models(self, step: str | None = None) -> list[LiveModel]:
        if not self._readable():
            return []
        sql = "SELECT * FROM live_models" + (" WHERE step=?" if step else "") + " ORDER BY id DESC"
        rows = self._db().execute(sql, (step,) if step else ()).fetchall()
        return [
            LiveModel(
                r["step"],
                r["run_id"],
                r["model"],
                json.loads(r["metrics"]),
                r["data_fingerprint"],
                r["since"],
                r["until"],
                r["reason"],
            )
            for r in rows
        ]

    def _readable(self) -> bool:
        """Readers of a pipeline that never ran see empty state, and create nothing."""
        return self._conn is not None or self.exists or self._create


@contextmanager
def _tx(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _j(value: Any) -> str:
    return json.dumps(value or {}, sort_keys=True, default=str)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (ValueError, OSError):
        return {}
