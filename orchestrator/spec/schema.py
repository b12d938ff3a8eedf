"""The JSON Schema of a pipeline: generated from the models, checked in for editors.

`python -m orchestrator schema > schemas/pipeline.schema.json` regenerates it; a test
fails when the file and the models drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, PathT, allowed, did_you_mean
from .kinds import KINDS
from .loader import Document
from .models import PIPELINE_NAME, STEP_NAME, Pipeline
from .text import dumped, shown

SCHEMA_ID = "https://orchestrator.dev/schemas/pipeline.schema.json"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "pipeline.schema.json"


def generate_schema() -> dict[str, Any]:
    """Pydantic's schema, reshaped so a validator reports errors against the right step kind.

    Pydantic emits steps as a `oneOf` with a discriminator; plain JSON Schema validators
    then only say "not valid under any of the given schemas". An `if type == X then
    StepX` chain lets them (and editors) report the real problem inside the step.
    """
    schema = Pipeline.model_json_schema()
    steps = schema["properties"]["steps"]
    kinds = list(KINDS)
    steps.pop("patternProperties", None)
    steps["propertyNames"] = {"pattern": STEP_NAME}
    steps["additionalProperties"] = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": kinds, "description": "What the step does."}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{kind.model.__name__}"},
            }
            for name, kind in KINDS.items()
        ],
    }
    assert schema["properties"]["name"]["pattern"] == PIPELINE_NAME
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    return json.dumps(generate_schema(), indent=2, sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def _validator():
    import jsonschema  # deferred: only validation needs it

    schema = json.loads(SCHEMA_FILE.read_text()) if SCHEMA_FILE.exists() else generate_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def schema_diagnostics(doc: Document) -> list[Diagnostic]:
    """Check the document's shape against the JSON Schema; one diagnostic per leaf problem."""
    validator = _validator()
    out: list[Diagnostic] = []
    for error in validator.iter_errors(doc.data):
        out.extend(_explain(doc, error))
    return _dedupe(out)


def _leaves(error) -> Iterator[Any]:
    """The errors worth showing: if/then and optional (anyOf with null) failures are
    explained by the sub-errors of the one branch that matches the value's type."""
    if error.validator in ("allOf", "if", "then") and error.context:
        for sub in error.context:
            yield from _leaves(sub)
        return
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [
            errs
            for errs in branches.values()
            if not (len(errs) == 1 and errs[0].validator == "type" and not errs[0].relative_path)
        ]
        if len(fitting) > 1 and isinstance(error.instance, dict):
            fitting = _closest_mappings(error, branches, fitting)
        if len(fitting) == 1:
            for sub in fitting[0]:
                yield from _leaves(sub)
            return
    yield error


def _closest_mappings(error, branches: dict[Any, list[Any]], fitting: list[list[Any]]) -> list[list[Any]]:
    """Of several mapping shapes a value could have (e.g. a number range or a list of values),
    the one sharing the most keys with it, when one does: its problems are the ones to show."""
    options = error.schema.get(error.validator, [])
    shared = []
    for errs in fitting:
        index = next(i for i, e in branches.items() if e is errs)
        branch = options[index] if isinstance(index, int) and index < len(options) else {}
        ref = branch.get("$ref", "")
        if ref.startswith("#/$defs/"):
            branch = _validator().schema.get("$defs", {}).get(ref.rsplit("/", 1)[1], {})
        shared.append(len(set(error.instance) & set(branch.get("properties", {}))))
    best = max(shared)
    return [fitting[shared.index(best)]] if shared.count(best) == 1 else fitting


def _explain(doc: Document, error) -> Iterator[Diagnostic]:
    for leaf in _leaves(error):
        yield _describe(doc, leaf)


def _describe(doc: Document, e) -> Diagnostic:
    path: PathT = tuple(e.absolute_path)
    kind = e.validator
    schema = e.schema
    if kind == "additionalProperties":
        known = list(schema.get("properties", {}))
        extras = [k for k in e.instance if k not in schema.get("properties", {})]
        key = extras[0] if extras else "?"
        hint = did_you_mean(key, known) or ("allowed keys are " + ", ".join(f"'{k}'" for k in known) if known else None)
        return doc.diagnostic(path + (key,), f"unknown key '{shown(key)}'", hint, key=True)
    if kind == "required":
        missing = e.message.split("'")[1] if "'" in e.message else e.message
        return doc.diagnostic(path, f"missing required field '{missing}'", _required_hint(path, missing))
    if "propertyNames" in e.schema_path:
        name = e.instance
        return doc.diagnostic(
            path + (name,),
            f"invalid name '{shown(name)}'",
            "names start with a letter and use letters, digits, '-' and '_' (at most 40)",
            key=True,
        )
    if kind == "type":
        want = schema["type"]
        want = " or ".join(want) if isinstance(want, list) else want
        return doc.diagnostic(path, f"expected {_article(want)}, got {_json_type(e.instance)}")
    if kind in ("enum", "const"):
        choices = schema.get("enum") or [schema.get("const")]
        hint = did_you_mean(str(e.instance), [str(c) for c in choices]) or allowed(str(c) for c in choices)
        return doc.diagnostic(path, f"invalid value {dumped(e.instance)}", hint)
    if kind == "pattern":
        return doc.diagnostic(
            path,
            f"{dumped(e.instance)} does not match the required pattern {schema['pattern']}",
            _pattern_hint(path),
        )
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = schema[kind]
        word = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }[kind]
        return doc.diagnostic(path, f"{shown(e.instance)} is out of range: must be {word} {bound}")
    if kind in ("minItems", "minProperties"):
        return doc.diagnostic(path, "must not be empty")
    if kind == "minLength":
        return doc.diagnostic(path, "must not be empty")
    if kind == "maxLength":
        return doc.diagnostic(path, f"is too long: at most {schema['maxLength']} characters")
    return doc.diagnostic(path, shown(e.message, 300))


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.line, d.col, d.path, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _article(word: str) -> str:
    names = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "null": "nothing",
    }
    return names.get(word, word)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if value is None:
        return "nothing (null)"
    return f"the string {dumped(value)}"


def _required_hint(path: PathT, missing: str) -> str | None:
    if missing == "type" and len(path) == 2 and path[0] == "steps":
        return allowed(KINDS)
    return None


def _pattern_hint(path: PathT) -> str | None:
    if path == ("name",):
        return "start with a letter; use letters, digits and '-' (at most 40 characters)"
    if path and path[-1] == "path":
        return "route paths start with '/'"
    return None
