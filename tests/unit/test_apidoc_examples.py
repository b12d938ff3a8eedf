"""Every api step of the shipped specs compiles to a document that is valid OpenAPI 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate

from orchestrator.apidoc import compile_document, document_hash, document_json, offline_values, resolve_refs
from orchestrator.apidoc.values import static_outputs
from orchestrator.spec.models import ApiStep
from orchestrator.validate import validate_file

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted([ROOT / "pipeline.yaml", *ROOT.glob("examples/*/pipeline.yaml")])


def api_documents():
    for spec_file in SPECS:
        pipeline = validate_file(spec_file, env={}).pipeline
        for name, step in pipeline.steps.items():
            if isinstance(step, ApiStep):
                api = resolve_refs(step, static_outputs(pipeline))
                yield f"{spec_file.parent.name}:{name}", compile_document(api, offline_values(pipeline, name, api))


DOCUMENTS = dict(api_documents())


def test_the_shipped_specs_have_api_steps_to_check():
    assert len(DOCUMENTS) >= 6  # the root spec and five examples serve an API


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_openapi_3(name):
    validate(DOCUMENTS[name])  # raises on the first violation


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_resolves_every_reference(name):
    text = document_json(DOCUMENTS[name])
    assert "${" not in text


def test_same_spec_gives_the_same_bytes_and_hash():
    again = dict(api_documents())
    assert {k: document_json(v) for k, v in again.items()} == {k: document_json(v) for k, v in DOCUMENTS.items()}
    assert {k: document_hash(v) for k, v in again.items()} == {k: document_hash(v) for k, v in DOCUMENTS.items()}


def test_json_has_sorted_keys_and_one_final_newline():
    text = document_json(next(iter(DOCUMENTS.values())))
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.index('"info"') < text.index('"openapi"') < text.index('"paths"')
