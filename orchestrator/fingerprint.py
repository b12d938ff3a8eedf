"""Fingerprints: a step's identity from its config, the content of its files and its upstream.

Two runs of an unchanged step have the same fingerprint, so the second skips it;
the recorded parts let the planner say *what* changed ("code changed: train.py").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec.checks import HANDLER

IGNORED_DIRS = {"__pycache__", ".git", ".orchestrator", ".pytest_cache", "node_modules", ".venv", ".mypy_cache"}
IGNORED_SUFFIXES = (".pyc", ".pyo")
CHUNK = 1024 * 1024


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


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def walk_files(path: Path) -> Iterator[Path]:
    """Files under `path` (or `path` itself) in a stable order, skipping caches and state."""
    if path.is_file():
        yield path
        return
    for child in sorted(path.iterdir(), key=lambda p: p.name):
        if child.is_dir():
            if child.name not in IGNORED_DIRS:
                yield from walk_files(child)
        elif child.is_file() and not child.name.endswith(IGNORED_SUFFIXES):
            yield child


def hash_tree(root: Path, relative: str) -> dict[str, str]:
    target = (root / relative).resolve()
    if not target.exists():
        return {relative: "missing"}
    return {str(p.relative_to(root)): file_digest(p) for p in walk_files(target)}


def step_files(kind: str, raw: Mapping[str, Any], root: Path) -> tuple[list[str], list[str]]:
    """The code and data paths a step depends on, relative to the project root."""
    code: list[str] = []
    data: list[str] = []
    if kind == "training":
        if raw.get("source_dir"):
            code.append(raw["source_dir"])
        elif raw.get("entry_point"):
            code.append(_with_its_folder(raw["entry_point"]))
        # ${...} inputs are another step's outputs: covered by that step's fingerprint
        data.extend(v for v in (raw.get("inputs") or {}).values() if isinstance(v, str) and "${" not in v)
    elif kind == "endpoint" and raw.get("inference"):
        code.append(_with_its_folder(raw["inference"]))
    elif kind == "api":
        for route in raw.get("routes") or []:
            m = HANDLER.match(str(route.get("handler") or ""))
            if m:
                code.append(_with_its_folder(m.group("file")))
            if route.get("requirements"):
                code.append(route["requirements"])
    elif kind == "website" and raw.get("source"):
        code.append(raw["source"])
    return code, data


def _with_its_folder(file: str) -> str:
    """A script ships (and imports) its folder's modules, so their content counts too:
    the folder, unless that is the whole project (then just the file)."""
    folder = str(Path(file).parent)
    return file if folder in ("", ".") else folder


def fingerprint_step(
    kind: str,
    raw: Mapping[str, Any],
    root: Path,
    upstream: Mapping[str, str],
    external: Mapping[str, str] | None = None,
    from_env: Mapping[tuple, str] | None = None,
) -> Fingerprint:
    """Fingerprint one step. `external` maps s3:// URIs to listing digests when the target supplied them.

    `from_env` maps paths inside the step to the ${env:...} templates their values came from:
    the digest covers the real values, but the recorded config keeps only the templates,
    so secrets passed through the environment never reach the state.
    """
    code_paths, data_paths = step_files(kind, raw, root)
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


def describe_changes(old: Fingerprint, new: Fingerprint) -> list[str]:
    """Human reasons a step's fingerprint changed, most telling first."""
    reasons: list[str] = []
    for label, a, b in (("code", old.code, new.code), ("data", old.data, new.data)):
        changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if changed:
            shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            reasons.append(f"{label} changed: {shown}")
    keys = _diff_paths(old.config, new.config, "")
    if keys:
        reasons.append(
            "config changed: " + ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
        )
    ups = sorted(k for k in set(old.upstream) | set(new.upstream) if old.upstream.get(k) != new.upstream.get(k))
    if ups:
        reasons.append("upstream changed: " + ", ".join(ups))
    if not reasons and "${env:" in json.dumps(new.config):
        return ["a value from ${env:...} changed"]
    return reasons or ["fingerprint changed"]


def _diff_paths(a: Any, b: Any, prefix: str) -> list[str]:
    """Dotted paths where two configs differ: `hyperparameters.C`, not just `hyperparameters`."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out.extend(_diff_paths(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [] if a == b else [prefix or "(step)"]
