"""Run state in S3, for teams and CI: one JSON document per pipeline and a lock object.

Every write replaces `state.json` with a conditional PUT (If-Match on the ETag the
writer read), so a write can never silently overwrite another's; S3 PUTs are atomic,
so a kill mid-write leaves the previous document. The lock is `lock.json`, held under
a lease (see s3_lease.py); each write first checks that the lock is still this run's.
A lock whose holder died stays until `python -m orchestrator unlock` removes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from .base import (
    SCHEMA_VERSION,
    LiveModel,
    Resource,
    RunRecord,
    StateConflict,
    StateStore,
    StateVersionError,
    StepRun,
)
from .s3_lease import LEASE_S, LeaseLock


class S3Store(StateStore):
    def __init__(self, bucket: str, prefix: str, pipeline: str, region: str, client=None, lease_s: float = LEASE_S):
        self.bucket = bucket
        self.key = "/".join(p for p in (prefix.strip("/"), pipeline, "state.json") if p)
        self.lock_key = self.key.rsplit("/", 1)[0] + "/lock.json"
        self.location = f"s3://{bucket}/{self.key}"
        self.region = region
        self._client = client
        self._lease_s = lease_s
        self._lease: LeaseLock | None = None

    @property
    def client(self):
        if self._client is None:
            import boto3  # only teams that chose S3 state pay for boto3

            self._client = boto3.session.Session(region_name=self.region).client("s3")
        return self._client

    @property
    def lease(self) -> LeaseLock:
        if self._lease is None:
            self._lease = LeaseLock(self.client, self.bucket, self.lock_key, self._lease_s)
        return self._lease

    # -- the document --------------------------------------------------------------

    def _read(self) -> tuple[dict[str, Any], str | None]:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except self.client.exceptions.NoSuchKey:
            return _empty(), None
        doc = json.loads(obj["Body"].read())
        if doc.get("schema_version", 0) > SCHEMA_VERSION:
            raise StateVersionError(self.location, doc["schema_version"])
        if doc.get("schema_version", 0) < SCHEMA_VERSION:  # schema 1 kept target/resolved in details
            doc["resources"] = {k: asdict(Resource.from_record(r)) for k, r in doc.get("resources", {}).items()}
            doc["schema_version"] = SCHEMA_VERSION
        return doc, obj["ETag"]

    @contextmanager
    def _write(self) -> Iterator[dict[str, Any]]:
        doc, etag = self._read()
        yield doc
        doc["serial"] = doc.get("serial", 0) + 1
        body = json.dumps(doc, sort_keys=True, default=str).encode()
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        self.lease.check(self.location)  # a run whose lock was removed or taken writes nothing more
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json", **condition
            )
        except self.client.exceptions.ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise StateConflict(
                    f"{self.location} changed while this run held the lock "
                    "(was the lock removed with unlock?); nothing was overwritten"
                ) from exc
            raise

    def serial(self) -> int:
        return self._read()[0].get("serial", 0)

    # -- lock --------------------------------------------------------------------

    @contextmanager
    def lock(self, command: str) -> Iterator[None]:
        self.lease.acquire(command)
        try:
            yield
        finally:
            self.lease.release()

    def lock_holder(self) -> dict[str, Any] | None:
        return self.lease.holder()

    def break_lock(self) -> None:
        self.lease.remove()

    # -- runs ----------------------------------------------------------------------

    def begin_run(self, pipeline: str, target: str, command: str) -> RunRecord:
        with self._write() as doc:
            run = RunRecord(
                id=doc.get("next_run_id", 1),
                pipeline=pipeline,
                target=target,
                status="running",
                command=command,
                started_at=time.time(),
            )
            doc["next_run_id"] = run.id + 1
            doc["runs"].append(asdict(run))
        return run

    def finish_run(self, run_id: int, status: str, error: str | None = None, failed_step: str | None = None) -> None:
        with self._write() as doc:
            for run in doc["runs"]:
                if run["id"] == run_id:
                    run.update(status=status, finished_at=time.time(), error=error, failed_step=failed_step)

    def step_started(self, attempt: StepRun) -> None:
        with self._write() as doc:
            doc["step_runs"] = [
                a for a in doc["step_runs"] if not (a["run_id"] == attempt.run_id and a["step"] == attempt.step)
            ]
            doc["step_runs"].append(asdict(attempt))

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
        with self._write() as doc:
            for a in doc["step_runs"]:
                if a["run_id"] == run_id and a["step"] == step:
                    a.update(
                        status=status,
                        finished_at=time.time(),
                        outputs=outputs or {},
                        metrics=metrics or {},
                        details=details or {},
                        message=message,
                        error=error,
                    )
            if resource is not None:
                doc["resources"][resource.step] = asdict(resource)
            if remove_resource:
                doc["resources"].pop(step, None)

    def resources(self) -> dict[str, Resource]:
        return {name: Resource.from_record(r) for name, r in sorted(self._read()[0]["resources"].items())}

    def runs(self, limit: int = 20) -> list[RunRecord]:
        runs = sorted(self._read()[0]["runs"], key=lambda r: r["id"], reverse=True)
        return [RunRecord(**r) for r in runs[:limit]]

    def step_runs(self, run_id: int) -> list[StepRun]:
        return [StepRun(**a) for a in self._read()[0]["step_runs"] if a["run_id"] == run_id]

    def mark_interrupted(self) -> list[int]:
        doc, _ = self._read()
        ids = [r["id"] for r in doc["runs"] if r["status"] == "running"]
        if ids:
            with self._write() as doc:
                now = time.time()
                for a in doc["step_runs"]:
                    if a["run_id"] in ids and a["status"] == "running":
                        a.update(status="interrupted", finished_at=now, error="the run was killed while this step ran")
                for r in doc["runs"]:
                    if r["id"] in ids:
                        r.update(
                            status="interrupted",
                            finished_at=r.get("finished_at") or now,
                            error=r.get("error") or "the run was killed",
                        )
        return ids

    # -- lineage ---------------------------------------------------------------------

    def set_live(self, live: LiveModel) -> None:
        with self._write() as doc:
            for m in doc["live_models"]:
                if m["step"] == live.step and m["until"] is None:
                    m["until"] = live.since
            doc["live_models"].append(asdict(live))

    def live_models(self, step: str | None = None) -> list[LiveModel]:
        models = [LiveModel(**m) for m in self._read()[0]["live_models"] if step is None or m["step"] == step]
        return list(reversed(models))


def _empty() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "serial": 0,
        "next_run_id": 1,
        "runs": [],
        "step_runs": [],
        "resources": {},
        "live_models": [],
    }


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))
