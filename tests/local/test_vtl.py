"""The document's mapping templates through the VTL engine the local gateway uses (airspeed-ext),
with the variables of https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
"""

from __future__ import annotations

import json

import pytest

from orchestrator.apidoc.templates import GATEWAY_ERROR_BODY, MOCK_OK, PASSTHROUGH_BODY, error_body, origin_echo
from orchestrator.targets.local.gateway import vtl

PARAMS = {"path": {"id": "7"}, "querystring": {"q": "x"}, "header": {"Origin": "https://a.example"}}


def context() -> dict:
    return {"requestId": "req-1", "responseOverride": {"header": {}, "status": None}, "error": {}}


def test_the_generic_error_body_names_the_request_id_and_nothing_of_the_model():
    rendered = vtl.render(error_body("The model failed"), '{"OriginalMessage": "x"}', PARAMS, context(), {})
    assert json.loads(rendered) == {"message": "The model failed", "requestId": "req-1"}


def test_the_origin_echo_sets_the_response_overrides_for_an_allowed_origin_only():
    allowed = context()
    assert vtl.render(origin_echo(["https://a.example/"]) + PASSTHROUGH_BODY, "{}", PARAMS, allowed, {}).strip() == "{}"
    assert allowed["responseOverride"]["header"] == {
        "Access-Control-Allow-Origin": "https://a.example",
        "Vary": "Origin",
    }
    foreign = context()
    vtl.render(origin_echo(["https://b.example"]), "", PARAMS, foreign, {})
    assert foreign["responseOverride"]["header"] == {}


def test_gateway_error_and_mock_templates():
    error = {**context(), "error": {"messageString": json.dumps('Say "no"')}}
    assert json.loads(vtl.render(GATEWAY_ERROR_BODY, "", PARAMS, error, {})) == {"message": 'Say "no"'}
    assert json.loads(vtl.render(MOCK_OK, "", PARAMS, context(), {})) == {"statusCode": 200}


def test_input_util_and_stage_variables():
    body = '{"a": {"b": [1, {"c": "d"}]}, "s": "it\'s \\"q\\""}'
    template = (
        "$input.json('$.a.b[1]')|$input.path('$.a.b[0]')|$input.params('id')|$input.params('q')|"
        "$input.params().header.get('Origin')|$util.escapeJavaScript($input.path('$.s'))|"
        "$util.urlEncode('a b&c')|$util.base64Encode('hi')|$stageVariables.env"
    )
    rendered = vtl.render(template, body, PARAMS, context(), {"env": "prod"})
    assert rendered == '{"c": "d"}|1|7|x|https://a.example|it\\\'s \\"q\\"|a+b%26c|aGk=|prod'


def test_compiled_templates_are_cached():
    text = "$input.body-cached"
    assert vtl.compiled(text) is vtl.compiled(text)


def test_a_template_that_fails_is_a_template_error():
    with pytest.raises(vtl.TemplateError):
        vtl.render("$input.json('$.a')", "not json", PARAMS, context(), {})
