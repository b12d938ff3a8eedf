"""`request_schema` at validate time: a valid draft-4 JSON Schema (what API Gateway models are), of a
JSON body, on a method with a body, without the keywords API Gateway's import does not support; each
problem located at its line and column with a hint."""

from __future__ import annotations

import json

import pytest

from orchestrator.errors import DiagnosticError
from orchestrator.spec.schema import SCHEMA_FILE, schema_text
from orchestrator.validate import validate_file

SPEC = """\
version: 1
name: demo
steps:
  api:
    type: api
    routes:
      - method: {method}
        path: /predict
        integration: lambda
        handler: api.py:predict
        request_schema:
          type: object
          required: [instances]
          properties:
{properties}
"""
GOOD = "            instances: {type: array, items: {type: array, items: {type: number}}}\n"


def write(project, properties: str = GOOD, method: str = "POST"):
    (project / "api.py").write_text("def predict(event, context):\n    return {}\n")
    path = project / "schema.yaml"
    path.write_text(SPEC.format(method=method, properties=properties))
    return path


def problems(path) -> list:
    with pytest.raises(DiagnosticError) as caught:
        validate_file(path)
    return caught.value.diagnostics


def test_a_draft_4_schema_is_taken_as_written(project):
    route = validate_file(write(project)).pipeline.steps["api"].routes[0]
    assert route.request_schema["properties"]["instances"]["items"]["items"] == {"type": "number"}


def test_an_invalid_schema_is_located_where_it_is_wrong(project):
    path = write(project, "            instances: {type: list}\n")
    [problem] = problems(path)
    assert problem.path == ("steps", "api", "routes", 0, "request_schema", "properties", "instances", "type")
    assert (problem.line, problem.col) == (15, 31)
    assert problem.message.startswith("request_schema is not a valid draft-4 JSON Schema: list is not a type")
    assert problem.hint and "type: object" in problem.hint


def test_a_schema_that_is_not_draft_4_is_refused(project):
    # draft 4's exclusiveMaximum is a boolean, draft 6's a number
    path = write(project, "            n: {type: number, maximum: 3, exclusiveMaximum: 3}\n")
    [problem] = problems(path)
    assert problem.path[-2:] == ("n", "exclusiveMaximum")
    assert "3 is not of type 'boolean'" in problem.message


@pytest.mark.parametrize("keyword", ["discriminator", "example", "exclusiveMinimum", "readOnly", "$ref"])
def test_keywords_api_gateway_models_do_not_support_are_refused(project, keyword):
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
    value = {"exclusiveMinimum": "true", "readOnly": "true", "$ref": "'#/definitions/x'"}.get(keyword, "x")
    path = write(project, GOOD + f"            n: {{type: number, minimum: 0, {keyword}: {value}}}\n")
    [problem] = problems(path)
    assert problem.path[-3:] == ("properties", "n", keyword)
    assert problem.message.startswith(f"'{keyword}' in request_schema: ")
    assert problem.hint == "remove it"


def test_a_property_named_like_a_keyword_is_a_property(project):
    path = write(project, GOOD + "            example: {type: string}\n")
    assert validate_file(path).pipeline.steps["api"].routes[0].request_schema["properties"]["example"]


@pytest.mark.parametrize("declared", ["x", "'http://json-schema.org/draft-04/schema#'"])
def test_a_schema_uri_is_refused_whatever_it_names(project, declared):
    """OpenAPI 3.0's Schema Object has no $schema: the document carrying the model would not be valid."""
    spec = write(project).read_text().replace("type: object\n", f"type: object\n          $schema: {declared}\n", 1)
    path = project / "schema.yaml"
    path.write_text(spec)
    [problem] = problems(path)
    assert problem.message.startswith("'$schema' in request_schema: OpenAPI 3.0's Schema Object has no such keyword")
    assert problem.hint == "remove it: the document's models are draft 4 already"


@pytest.mark.parametrize(
    ("properties", "where", "message"),
    [
        ("            n: {type: [string, 'null']}\n", ("n", "type"), "type ['string', 'null'] in request_schema"),
        ("            n: {type: 'null'}\n", ("n", "type"), "type null in request_schema"),
        (
            "            n: {type: array, items: [{type: number}]}\n",
            ("n", "items"),
            "items in request_schema is a list",
        ),
        (
            "            n: {type: object, patternProperties: {'^x': {}}}\n",
            ("n", "patternProperties"),
            "'patternProperties'",
        ),
        ("            n: {type: object, definitions: {}}\n", ("n", "definitions"), "'definitions'"),
    ],
)
def test_draft_4_that_openapi_3_cannot_carry_is_refused(project, properties, where, message):
    """https://spec.openapis.org/oas/v3.0.1#schema-object: one type name, no null type, items one schema,
    and none of draft 4's other keywords; the exported document must stay valid OpenAPI."""
    [problem] = problems(write(project, GOOD + properties))
    assert problem.path[-2:] == where
    assert problem.message.startswith(message)


def test_an_any_route_takes_no_schema_since_its_gets_have_no_body(project):
    [problem] = problems(write(project, method="ANY"))
    assert problem.path == ("steps", "api", "routes", 0, "request_schema")
    assert problem.message.startswith("an ANY route takes GET too")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_method_without_a_body_takes_no_schema(project, method):
    [problem] = problems(write(project, method=method))
    assert problem.path == ("steps", "api", "routes", 0, "request_schema")
    assert (problem.line, problem.col) == (11, 9)  # the key
    assert problem.message.startswith(f"{method} requests have no body to validate")


def test_a_direct_route_sending_csv_takes_no_schema(project):
    spec = write(project).read_text()
    spec = spec.replace(
        "integration: lambda\n        handler: api.py:predict\n",
        "integration: direct\n        endpoint: ep\n        content_type: text/csv\n",
    )
    path = project / "schema.yaml"
    path.write_text(spec)
    [problem] = problems(path)
    assert problem.message == "request_schema validates a JSON body, and this route's content_type is text/csv"


def test_the_checked_in_schema_describes_request_schema():
    on_disk = json.loads(SCHEMA_FILE.read_text())
    assert on_disk == json.loads(schema_text())
    route = on_disk["$defs"]["Route"]["properties"]["request_schema"]
    assert {"type": "object", "additionalProperties": True} in route["anyOf"]


def test_min_and_max_items_are_kept_with_a_warning_that_aws_may_not_check_them(project):
    """Known issues: "The maxItems and minItems tags are not included in simple request validation"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html)."""
    path = write(project, "            instances: {type: array, minItems: 1, items: {type: number}}\n")
    spec = validate_file(path)
    [warning] = spec.warnings
    assert warning.severity == "warning"
    assert warning.path[-1] == "minItems"
    assert "not included in simple request validation" in warning.message
    assert spec.pipeline.steps["api"].routes[0].request_schema["properties"]["instances"]["minItems"] == 1


@pytest.mark.parametrize(("kind", "fmt"), [("number", "int32"), ("number", "int64"), ("number", "decimal")])
def test_number_formats_api_gateway_models_do_not_support_are_refused(project, kind, fmt):
    [problem] = problems(write(project, GOOD + f"            n: {{type: {kind}, format: {fmt}}}\n"))
    assert problem.path[-2:] == ("n", "format")
    assert "API Gateway models do not support it" in problem.message
