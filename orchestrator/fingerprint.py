"""Fingerprints: a step's identity from its config, the content of its files and its upstream.

Two runs of an unchanged step have the same fingerprint, so the second skips it;
the recorded parts let the planner say *what* changed ("code changed: train.py").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import file_digest, walk
from .spec.kinds import KINDS


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    config: dict[str, Any]  # the step as written (references unresolved)
    code: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    data: dict[str, str] = field(default_factory=dict)  # relative path or s3 URI -> sha256 / listing digest
    upstream: dict[str, str] = field(default_factory=dict)  # step -> its fingerprint digest

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "config": self.config,
            "code": self.code,
            "data": self.data,
            "upstream": self.upstream,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Fingerprint:
        return cls(d["digest"], d.get("config", {}), d.get("code", {}), d.get("data", {}), d.get("upstream", {}))


_SHARED: ContextVar[dict[tuple[Path, str], dict[str, str]] | None] = ContextVar("shared_digests", default=None)


@contextmanager
def shared_digests() -> Iterator[None]:
    """Within one plan each path is hashed once: steps naming the same script or data share
    its digests (500 generated steps name one file 250 times), and see the same content."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def hash_tree(root: Path, relative: str) -> dict[str, str]:
    """Digest of every file under `relative` that belongs to a step (the one rule of files.py)."""
    shared = _SHARED.get()
    if shared is not None and (root, relative) in shared:
        return dict(shared[(root, relative)])
    target = (root / relative).resolve()
    digests = (
        {relative: "missing"}
        if not target.exists()
        else {str(p.relative_to(root)): file_digest(p) for p in walk(target)}
    )
    if shared is not None:
        shared[(root, relative)] = dict(digests)
    return digests


def step_files(kind: str, step: Any) -> tuple[list[str], list[str]]:
    """The code and data paths a step depends on, relative to the project root.

    `${...}` inputs are another step's outputs, covered by that step's fingerprint.
    """
    code: list[str] = []
    data: list[str] = []
    for path in KINDS[kind].paths(step):
        if path.role == "code":
            code.append(path.hashed)
        elif path.role == "data" and "${" not in path.value:
            data.append(path.hashed)
    return code, data


def fingerprint_step(
    kind: str,
    raw: Mapping[str, Any],
    root: Path,
    upstream: Mapping[str, str],
    external: Mapping[str, str] | None = None,
    from_env: Mapping[tuple, str] | None = None,
    step: Any = None,
) -> Fingerprint:
    """Fingerprint one step as written (`raw`; `step` is its typed model, when the caller has it).

    `external` maps s3:// URIs to listing digests when the target supplied them.
    `from_env` maps paths inside the step to the ${env:...} templates their values came from:
    the digest covers the real values, but the recorded config keeps only the templates,
    so secrets passed through the environment never reach the state.
    """
    if step is None:
        step = KINDS[kind].model.model_validate(raw)
    code_paths, data_paths = step_files(kind, step)
    code: dict[str, str] = {}
    for rel in code_paths:
        code.update(hash_tree(root, rel))
    data: dict[str, str] = {}
    for rel in data_paths:
        if rel.startswith("s3://"):
            data[rel] = (external or {}).get(rel, "unlisted")
        else:
            data.update(hash_tree(root, rel))
    config = json.loads(json.dumps(raw, sort_keys=True, default=str))
    body = json.dumps(
        {"kind": kind, "config": config, "code": code, "data": data, "upstream": dict(upstream)},
        sort_keys=True,
        separators=(",", ":"),
    )
    for path, template in (from_env or {}).items():
        _set_path(config, path, template)
    return Fingerprint(hashlib.sha256(body.encode()).hexdigest(), config, code, data, dict(upstream))


def _set_path(config: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        config = config[part]
    config[path[-1]] = value
