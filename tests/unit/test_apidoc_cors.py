"""CORS in the document: preflights answered by mock integrations, headers on mapped and gateway responses."""

from __future__ import annotations

from tests.unit.apidoc_cases import DIRECT_ROUTE, LAMBDA_ROUTE, document, integration

GATEWAY = "x-amazon-apigateway-gateway-responses"


def preflight_answer(doc, path):
    got = integration(doc, path, "options")
    assert got["type"] == "mock"
    assert got["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
    return got["responses"]["default"]


def test_preflight_headers_are_the_specs_cors_settings():
    doc = document(
        routes=[LAMBDA_ROUTE, {**LAMBDA_ROUTE, "method": "DELETE"}],
        cors={"allow_origins": ["*"], "allow_headers": ["Content-Type", "X-Trace"], "max_age_s": 120},
    )
    answer = preflight_answer(doc, "/predict")
    assert answer["statusCode"] == "200"
    assert answer["responseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": "'*'",
        "method.response.header.Access-Control-Allow-Methods": "'POST,DELETE,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Trace'",
        "method.response.header.Access-Control-Max-Age": "'120'",
    }
    assert "responseTemplates" not in answer  # a static origin needs no override
    op = doc["paths"]["/predict"]["options"]
    assert set(op["responses"]["200"]["headers"]) == {
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
    }
    assert "security" not in op  # browsers send no API key on a preflight


def test_allow_methods_from_the_spec_win_and_any_expands():
    doc = document(routes=[{**LAMBDA_ROUTE, "method": "ANY"}], cors={"allow_origins": ["*"]})
    methods = preflight_answer(doc, "/predict")["responseParameters"][
        "method.response.header.Access-Control-Allow-Methods"
    ]
    assert methods == "'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS'"
    doc = document(routes=[LAMBDA_ROUTE], cors={"allow_origins": ["*"], "allow_methods": ["GET"]})
    methods = preflight_answer(doc, "/predict")["responseParameters"][
        "method.response.header.Access-Control-Allow-Methods"
    ]
    assert methods == "'GET,OPTIONS'"


def test_named_origins_are_echoed_by_a_response_override_when_allowed():
    doc = document(
        cors={"allow_origins": ["https://site.example/", "http://localhost:8000"], "allow_credentials": True}
    )
    answer = preflight_answer(doc, "/invocations")
    assert "method.response.header.Access-Control-Allow-Origin" not in answer["responseParameters"]
    assert answer["responseParameters"]["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
    template = answer["responseTemplates"]["application/json"]
    assert '$origin == "https://site.example"' in template  # compared without the trailing slash
    assert '$origin == "http://localhost:8000"' in template
    assert "$context.responseOverride.header.Access-Control-Allow-Origin = $origin" in template
    assert "Vary" in doc["paths"]["/invocations"]["options"]["responses"]["200"]["headers"]
    # the direct route's own answers echo the same way, and still pass the model's body through
    ok = integration(doc, "/invocations")["responses"]["default"]
    assert ok["responseTemplates"]["application/json"] == template + "$input.body"


def test_direct_route_responses_carry_the_static_cors_headers():
    doc = document(routes=[DIRECT_ROUTE], cors={"allow_origins": ["*"], "expose_headers": ["X-Model"]})
    for response in integration(doc, "/invocations")["responses"].values():
        assert response["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == "'*'"
        assert response["responseParameters"]["method.response.header.Access-Control-Expose-Headers"] == "'X-Model'"


def test_gateway_errors_are_json_and_carry_cors_headers():
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
    doc = document(cors={"allow_origins": ["*"]})
    responses = doc[GATEWAY]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "INVALID_API_KEY"):
        assert responses[kind]["responseTemplates"] == {"application/json": '{"message":$context.error.messageString}'}
        assert responses[kind]["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
    assert "statusCode" not in responses["DEFAULT_4XX"] and "statusCode" not in responses["DEFAULT_5XX"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "403"
    assert responses["THROTTLED"]["statusCode"] == "429"
    assert responses["INVALID_API_KEY"]["statusCode"] == "403"
    assert responses["INTEGRATION_TIMEOUT"]["statusCode"] == "504"
    assert responses["UNSUPPORTED_MEDIA_TYPE"]["statusCode"] == "415"


def test_gateway_errors_echo_the_origin_when_it_is_not_static():
    doc = document(cors={"allow_origins": ["https://site.example"]})
    parameters = doc[GATEWAY]["DEFAULT_4XX"]["responseParameters"]
    assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.Origin"
    assert parameters["gatewayresponse.header.Vary"] == "'Origin'"
    assert "gatewayresponse.header.Access-Control-Max-Age" not in parameters


def test_without_cors_there_are_no_preflights_and_errors_carry_no_cors_headers():
    doc = document()
    assert all("options" not in item for item in doc["paths"].values())
    assert all("responseParameters" not in response for response in doc[GATEWAY].values())
    assert doc[GATEWAY]["DEFAULT_5XX"]["responseTemplates"] == {
        "application/json": '{"message":$context.error.messageString}'
    }
