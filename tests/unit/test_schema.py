"""The checked-in JSON Schema is exactly what the models generate, and accepts the examples."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from orchestrator.spec.schema import SCHEMA_FILE, generate_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_matches_the_models():
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "schemas/pipeline.schema.json is out of date: run `python -m orchestrator schema > schemas/pipeline.schema.json`"
    )


def test_schema_is_valid_json_schema():
    schema = generate_schema()
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_example_pipeline_points_editors_at_the_schema_and_passes_it():
    text = (ROOT / "pipeline.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=schemas/pipeline.schema.json"
    data = yaml.safe_load(text)  # ${...} references are strings to the schema
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))


def test_every_spec_in_the_repository_is_valid():
    from orchestrator.validate import validate_file

    specs = [ROOT / "pipeline.yaml", *sorted((ROOT / "examples").glob("*/pipeline.yaml"))]
    for spec in specs:
        validate_file(spec)
