"""The OpenAPI document: valid OpenAPI 3.1, complete, and true of the running service.

Schemathesis generates requests from the document (valid ones and, on purpose, invalid ones)
and sends them to the WSGI app with a real key; no answer may be a server error, and every
answer must be one the document describes, in status, content type and body.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from decimal import Decimal

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine import service
from engine.evaluate.io import decode_json, encode
from engine.service import openapi
from server import create_app

#: Generated requests per operation and generation mode: enough to find a crash, quick to run.
EXAMPLES_PER_OPERATION = 20


def test_the_document_is_valid_openapi_3_1():
    document = openapi.document()
    assert document["openapi"].startswith("3.1.")
    validate(document)  # by the version the document declares
    validate(document, cls=OpenAPIV31SpecValidator)


def test_the_served_document_is_the_built_one(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}"})
    try:
        response = app.test_client().get("/v1/openapi.json")  # no key needed
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert decode_json(response.get_data()) == decode_json(encode(openapi.document()))
    finally:
        app.extensions["kinerja_store"].dispose()


def test_every_route_is_described(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}"})
    app.extensions["kinerja_store"].dispose()
    paths = openapi.document()["paths"]
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/v1/")  # the web's pages are not API
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in paths.items() for method in item}
    assert routes == described


def test_the_stated_limits_are_the_services():
    schemas = openapi.document()["components"]["schemas"]
    assert schemas["EvaluateRequest"]["properties"]["records"]["maxItems"] == service.MAX_RECORDS_PER_REQUEST
    limit = next(p for p in openapi.document()["paths"]["/v1/evaluations"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == service.MAX_PAGE


def test_the_documents_examples_succeed(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}"})
    try:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {service.create_key(app.extensions['kinerja_store'], 'agency', 'x')[1]}"}
        paths = openapi.document()["paths"]
        answers = {}
        for path, method, url in (
            ("/v1/policies/check", "post", "/v1/policies/check"),
            ("/v1/policies/{policy_id}/evaluate", "post", "/v1/policies/pp-46-2011/evaluate"),
            ("/v1/submissions", "post", "/v1/submissions"),
        ):
            example = paths[path][method]["requestBody"]["content"]["application/json"]["example"]
            response = client.open(url, method=method, data=encode(example), headers=headers)
            answers[path] = (response.status_code, decode_json(response.get_data()))
        assert answers["/v1/policies/check"] == (200, {"valid": True, "diagnostics": []})
        status, evaluated = answers["/v1/policies/{policy_id}/evaluate"]
        assert status == 200 and evaluated["results"][0]["outputs"]["nilai_skp"] == Decimal("88.67")
        assert evaluated["results"][0]["outputs"]["predikat"] == "Baik"
        status, stored = answers["/v1/submissions"]
        assert status == 201 and stored["evaluations"][0]["outputs"] == evaluated["results"][0]["outputs"]
    finally:
        app.extensions["kinerja_store"].dispose()


def test_every_error_response_is_a_problem():
    document = openapi.document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    name = response["$ref"].rsplit("/", 1)[1]
                    content = document["components"]["responses"][name]["content"]
                    assert list(content) == ["application/problem+json"], (path, method, status)


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(app):
    """Every operation, with valid and invalid data and an agency key (which may also write).

    Derandomized: the same requests on every run, so a failure in CI reproduces locally.
    """
    store = app.extensions["kinerja_store"]
    headers = {"Authorization": f"Bearer {service.create_key(store, 'agency', 'dinkes')[1]}"}
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    checks = (status_code_conformance, content_type_conformance, response_schema_conformance)
    started, failures, statuses = time.monotonic(), [], Counter()

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(generation_mode=mode)]
            if mode is GenerationMode.POSITIVE:  # also the document's own examples, which succeed
                strategies += operation.get_strategies_from_examples()

            @given(case=st.one_of(strategies))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )
            def run(case):
                response = case.call(headers=headers)
                statuses[(operation.label, response.status_code)] += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path}: {response.status_code} "
                        f"{response.text[:300]}\n  {case.as_curl_command(headers=headers)}"
                    )
                    return
                try:
                    case.validate_response(response, checks=checks)
                except Exception as error:  # a response the document does not describe
                    failures.append(f"{case.method} {case.formatted_path} ({mode.value}): {error}"[:1200])

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no parameters, no body)
    assert not failures, "\n\n".join(failures[:10])
    # the happy paths were reached too, not only refusals
    assert statuses[("POST /v1/submissions", 201)] and statuses[("POST /v1/policies/{policy_id}/evaluate", 200)]
    assert statuses[("POST /v1/policies/check", 200)] and statuses[("GET /v1/evaluations", 200)]
    print(f"schemathesis: {statuses.total()} requests in {time.monotonic() - started:.1f} s")
