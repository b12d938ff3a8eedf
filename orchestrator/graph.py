"""Steps and the references between them, as a DAG in execution order.

References look like `${steps.train.outputs.model}`; they are resolved only at
execution time, so a plan can be shown before any of them exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostic, PathT, allowed, did_you_mean
from .errors import DiagnosticError
from .spec.kinds import KINDS
from .spec.loader import Document
from .spec.models import Pipeline
from .spec.refs import ANY_REF, REF
from .spec.text import shown


@dataclass(frozen=True)
class Ref:
    step: str
    output: str
    path: PathT  # where in the spec the reference is written


def iter_strings(value: Any, path: PathT = ()) -> Iterator[tuple[PathT, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from iter_strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_strings(v, path + (i,))


def step_refs(name: str, raw_step: Any) -> list[Ref]:
    return [
        Ref(m.group(1), m.group(2), ("steps", name) + path)
        for path, text in iter_strings(raw_step)
        for m in REF.finditer(text)
    ]


def orders(ref: Ref, steps: Mapping[str, Any]) -> bool:
    """Does this reference make its step wait for the one it names? Not for an output the target
    knows before that step runs (a website's origin): the site's page may call the API that names it."""
    raw = steps.get(ref.step)
    kind = KINDS.get(raw.get("type")) if isinstance(raw, Mapping) and isinstance(raw.get("type"), str) else None
    return kind is None or ref.output not in kind.known_before


def known_refs(name: str, raw_step: Any, steps: Mapping[str, Any]) -> list[Ref]:
    """The references of a step to outputs known before their step runs (see `orders`)."""
    return [r for r in step_refs(name, raw_step) if r.step in steps and not orders(r, steps)]


def told_refs(steps: Mapping[str, Any], names: Iterable[str]) -> list[Ref]:
    """Every reference of the named steps to an output known before its step runs, once each,
    in the steps' order: what the target must settle before those steps (a site's origin)."""
    found: dict[tuple[str, str], Ref] = {}
    for name in names:
        for ref in known_refs(name, steps[name], steps):
            found.setdefault((ref.step, ref.output), ref)
    return list(found.values())


def gate_sources(raw_step: Any) -> list[str]:
    """The step a promotion gate reads (`promote_when: {from: evaluate}`): it runs first, and
    its change changes the gated step."""
    gate = raw_step.get("promote_when") if isinstance(raw_step, Mapping) else None
    source = gate.get("from") if isinstance(gate, Mapping) else None
    return [source] if isinstance(source, str) else []


@dataclass(frozen=True)
class Graph:
    order: tuple[str, ...]  # topological, ties broken by spec order
    deps: Mapping[str, tuple[str, ...]]  # step -> steps it references


def reference_diagnostics(doc: Document, pipeline: Pipeline) -> list[Diagnostic]:
    """Bad `${...}` references: unknown steps, unknown outputs, malformed expressions."""
    kinds = {name: step.type for name, step in pipeline.steps.items()}
    out: list[Diagnostic] = []
    for name, raw in (doc.data.get("steps") or {}).items():
        for path, text in iter_strings(raw, ("steps", name)):
            for m in ANY_REF.finditer(text):
                expr = m.group(1)
                if expr.startswith("env:"):
                    continue
                full = REF.fullmatch(m.group(0))
                if not full:
                    out.append(
                        doc.diagnostic(
                            path,
                            f"malformed reference '${{{shown(expr)}}}'",
                            "write ${steps.STEP.outputs.OUTPUT} or ${env:NAME}",
                        )
                    )
                    continue
                target, output = full.group(1), full.group(2)
                if target not in kinds:
                    hint = did_you_mean(target, kinds) or "known steps are " + ", ".join(f"'{k}'" for k in kinds)
                    out.append(doc.diagnostic(path, f"reference to unknown step '{shown(target)}'", hint))
                    continue
                if target == name:
                    out.append(
                        doc.diagnostic(
                            path,
                            f"step '{name}' refers to its own output",
                            "a step can only use earlier steps' outputs",
                        )
                    )
                    continue
                outputs = KINDS[kinds[target]].outputs(pipeline.steps[target])
                if output not in outputs:
                    hint = did_you_mean(output, outputs) or allowed(outputs)
                    out.append(
                        doc.diagnostic(path, f"step '{target}' ({kinds[target]}) has no output '{shown(output)}'", hint)
                    )
    return out


def build_graph(doc: Document) -> Graph:
    """Order the steps so each runs after the steps it references; cycles are diagnostics."""
    steps: dict[str, Any] = doc.data.get("steps") or {}
    deps = {
        name: tuple(
            dict.fromkeys(
                [r.step for r in step_refs(name, raw) if r.step in steps and r.step != name and orders(r, steps)]
                + [s for s in gate_sources(raw) if s in steps and s != name]
            )
        )
        for name, raw in steps.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    problems: list[Diagnostic] = []

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = trail[trail.index(node) :] + [node]
            refs = [r for r in step_refs(cycle[-2], steps[cycle[-2]]) if r.step == node and orders(r, steps)]
            path = refs[0].path if refs else ("steps", node)
            problems.append(
                doc.diagnostic(
                    path,
                    "dependency cycle: " + " -> ".join(cycle),
                    "a step cannot depend, directly or not, on its own outputs",
                )
            )
            return
        state[node] = 1
        for dep in deps[node]:
            visit(dep, trail + [node])
        state[node] = 2
        order.append(node)

    for name in steps:
        visit(name, [])
    if problems:
        raise DiagnosticError(_unique_cycles(problems))
    return Graph(order=tuple(order), deps=deps)


def _unique_cycles(problems: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in problems:
        members = frozenset(d.message.split(": ", 1)[1].split(" -> "))
        if members not in seen:
            seen.add(members)
            out.append(d)
    return out


class UnresolvedReference(Exception):
    """A step referenced an output its upstream step did not produce."""


def _lookup(outputs: Mapping[str, Mapping[str, Any]], step: str, output: str) -> Any:
    try:
        return outputs[step][output]
    except KeyError:
        raise UnresolvedReference(f"step '{step}' produced no output '{output}'") from None


def resolve_refs(value: Any, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    """Replace `${steps.X.outputs.Y}` with recorded outputs (execution time only)."""
    if isinstance(value, str):
        whole = REF.fullmatch(value)
        if whole:
            return _lookup(outputs, whole.group(1), whole.group(2))
        return REF.sub(lambda m: str(_lookup(outputs, m.group(1), m.group(2))), value)
    if isinstance(value, Mapping):
        return {k: resolve_refs(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, outputs) for v in value]
    return value
