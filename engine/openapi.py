"""The OpenAPI 3.1 document of the HTTP service (PRODUCT.md, HTTP), served at /v1/openapi.json.

Built by a function rather than kept as a file so that the limits it states (records per
request, page size, the Idempotency-Key length) are the service's own constants. Every error
response is `application/problem+json` with located `errors`.
"""
from __future__ import annotations

from . import __version__
from .service import MAX_PAGE, MAX_RECORDS_PER_REQUEST
from .store import IDEMPOTENCY_KEY_LENGTH

#: Longest Idempotency-Key the service accepts (engine.service.submit).

PROBLEM = "application/problem+json"

#: DOMAIN.md's worked pp-46-2011 example: nilai SKP 88.67, nilai prestasi kerja 85.2, Baik.
EXAMPLE_RECORD = {
    "id": "199001012020011001",
    "kegiatan": [{"kuantitas": {"target": 1, "realisasi": 1}, "kualitas": {"target": 100, "realisasi": 90},
                  "waktu": {"target": 12, "realisasi": 12}}],
    "tugas_tambahan": 0,
    "kreativitas": 0,
    "perilaku": {"orientasi_pelayanan": 80, "integritas": 80, "komitmen": 80, "disiplin": 80, "kerja_sama": 80},
}
EXAMPLE_POLICY = 'id: contoh-daerah\nextends: pp-46-2011\ntitle: Contoh daerah\nversion: "2024.1"\n'


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _request(schema: str, example: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema), "example": example}}}


def _errors(*statuses: int) -> dict:
    return {str(status): {"$ref": f"#/components/responses/{_ERROR_RESPONSES[status][0]}"} for status in statuses}


_ERROR_RESPONSES = {
    400: ("MalformedJson", "The body is not JSON; `detail` gives the line and column."),
    401: ("Unauthenticated", "No API key, or a key that is unknown or revoked."),
    403: ("Forbidden", "The key's role may not do this (a reviewer or admin submitting, for example)."),
    404: ("NotFound", "No such object, or one that belongs to another agency."),
    413: ("TooLarge", f"The body is over the server's size limit (10 MB by default), or holds more than "
                      f"{MAX_RECORDS_PER_REQUEST} records."),
    422: ("Unprocessable", "The request is well-formed JSON but invalid; each error points into the body "
                           "(a JSON pointer such as /records/3/kreativitas) or names the query parameter."),
}

_POLICY_ID = {"name": "policy_id", "in": "path", "required": True, "description": "A built-in policy id.",
              "schema": {"type": "string", "minLength": 1}, "example": "pp-46-2011"}


def _id_parameter(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1}}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def document() -> dict:
    """The whole OpenAPI 3.1 document, as plain JSON data."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kinerja",
            "version": __version__,
            "summary": "Appraise Indonesian civil servants (ASN) against policies, exactly.",
            "description": (
                "Policies, stateless evaluation, and persisted submissions with their evaluations.\n\n"
                "Send an API key as `Authorization: Bearer KEY` everywhere except `/v1/health` and "
                "`/v1/openapi.json`. An agency key reads and writes its own agency's data only; a reviewer "
                "key reads everything and writes nothing; an admin key manages keys and policies and reads "
                "everything. Another agency's object is reported as absent (404).\n\n"
                "Numbers are exact decimals, read from and written as their JSON text: 88.6666666667 is "
                "the number written, never a binary float. Errors are `application/problem+json` with "
                "`errors: [{path, code, message}]`, where `path` is a JSON pointer into the request body "
                "(or the name of a query parameter)."),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [{"name": "service", "description": "Health and this document."},
                 {"name": "policies", "description": "Built-in policies and stateless evaluation."},
                 {"name": "submissions", "description": "Stored submissions and their evaluations."}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API key made with `kinerja keys create`."}},
            "schemas": _schemas(),
            "responses": {name: {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}
                          for name, description in _ERROR_RESPONSES.values()},
        },
    }


def _paths() -> dict:
    return {
        "/v1/health": {"get": {
            "operationId": "health", "tags": ["service"], "summary": "Whether the service is up.",
            "security": [],
            "responses": {"200": _json(_ref("Health"), "The service answers.")}}},
        "/v1/openapi.json": {"get": {
            "operationId": "openapi", "tags": ["service"], "summary": "This document.", "security": [],
            "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")}}},
        "/v1/policies": {"get": {
            "operationId": "listPolicies", "tags": ["policies"], "summary": "The built-in policies.",
            "responses": {"200": _json(_ref("PolicyList"), "Every built-in policy that passes its checks."),
                          **_errors(401)}}},
        "/v1/policies/check": {"post": {
            "operationId": "checkPolicy", "tags": ["policies"],
            "summary": "Check a policy sent as YAML text (it may extend a built-in policy).",
            "requestBody": _request("CheckRequest", {"policy": EXAMPLE_POLICY}),
            "responses": {"200": _json(_ref("CheckResult"), "The diagnostics; `valid` is false if any is an error."),
                          **_errors(400, 401, 413, 422)}}},
        "/v1/policies/{policy_id}": {"get": {
            "operationId": "getPolicy", "tags": ["policies"], "summary": "One policy: metadata, inputs, outputs.",
            "parameters": [_POLICY_ID],
            "responses": {"200": _json(_ref("Policy"), "The policy."), **_errors(401, 404)}}},
        "/v1/policies/{policy_id}/schema": {"get": {
            "operationId": "getPolicySchema", "tags": ["policies"],
            "summary": "The JSON Schema (2020-12) of one record for this policy.",
            "parameters": [_POLICY_ID],
            "responses": {"200": _json(_ref("RecordSchema"), "The record schema."), **_errors(401, 404)}}},
        "/v1/policies/{policy_id}/evaluate": {"post": {
            "operationId": "evaluate", "tags": ["policies"],
            "summary": "Evaluate records against a policy; nothing is stored. Any role.",
            "description": "One result per record, in order. A record that cannot be evaluated gets `errors` "
                           "(paths into that record) and no outputs; the others are still evaluated.",
            "parameters": [_POLICY_ID],
            "requestBody": _request("EvaluateRequest", {"records": [EXAMPLE_RECORD], "explain": False}),
            "responses": {"200": _json(_ref("EvaluateResponse"), "A result for every record."),
                          **_errors(400, 401, 404, 413, 422)}}},
        "/v1/submissions": {"post": {
            "operationId": "submit", "tags": ["submissions"],
            "summary": "Store a submission and the evaluation of every record (agency keys only).",
            "description": (
                "All or nothing: if any record has an error, nothing is stored and every error is reported at "
                "`/records/N/...`. With an `Idempotency-Key`, a retry of the same request returns the first "
                "response and stores nothing new; the same key with a different body is refused (422)."),
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "description": "Any text chosen by the agency, unique per submission.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_LENGTH}}],
            "requestBody": _request("SubmissionRequest",
                                    {"policy": "pp-46-2011", "period": "2020", "records": [EXAMPLE_RECORD]}),
            "responses": {"201": {"description": "Stored (or, for a retry, stored before).",
                                  "headers": {"Location": {"description": "The new submission.",
                                                           "schema": {"type": "string"}}},
                                  "content": {"application/json": {"schema": _ref("Submission")}}},
                          **_errors(400, 401, 403, 413, 422)}}},
        "/v1/submissions/{submission_id}": {"get": {
            "operationId": "getSubmission", "tags": ["submissions"], "summary": "A stored submission.",
            "parameters": [_id_parameter("submission_id", "The id returned when it was stored.")],
            "responses": {"200": _json(_ref("Submission"), "The submission, as first returned."),
                          **_errors(401, 404)}}},
        "/v1/evaluations": {"get": {
            "operationId": "listEvaluations", "tags": ["submissions"],
            "summary": "Stored evaluations the key may read, oldest first, a page at a time.",
            "parameters": [
                _query("policy", "Only this policy id."),
                _query("period", "Only this period."),
                _query("record_id", "Only this record id (for example a NIP)."),
                _query("limit", f"Page size, 1 to {MAX_PAGE}.",
                       {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}),
                _query("after", "Continue after this evaluation id (the previous page's `next`)."),
            ],
            "responses": {"200": _json(_ref("EvaluationPage"), "A page of evaluations."), **_errors(401, 422)}}},
        "/v1/evaluations/{evaluation_id}": {"get": {
            "operationId": "getEvaluation", "tags": ["submissions"],
            "summary": "A stored evaluation with its inputs and every intermediate value.",
            "parameters": [_id_parameter("evaluation_id", "An evaluation id.")],
            "responses": {"200": _json(_ref("Evaluation"), "The evaluation."), **_errors(401, 404)}}},
    }


_TEXT = {"type": "string"}
_OPTIONAL_TEXT = {"type": ["string", "null"]}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_RECORD_ID = {"type": ["string", "integer", "null"], "description": "The record's `id`, echoed back."}


def _object(properties: dict, required: list[str] | None = None, description: str = "", **more) -> dict:
    schema = {"type": "object", "properties": properties, "required": required or list(properties)}
    if description:
        schema["description"] = description
    schema.update(more)
    return schema


def _schemas() -> dict:
    records = {"type": "array", "items": _ref("Record"), "maxItems": MAX_RECORDS_PER_REQUEST,
               "description": f"At most {MAX_RECORDS_PER_REQUEST} records per request; send several requests."}
    summary = {"id": _TEXT, "version": _TEXT, "hash": _TEXT, "title": _TEXT, "berlaku_mulai": _OPTIONAL_TEXT,
               "berlaku_sampai": _OPTIONAL_TEXT, "extends": _OPTIONAL_TEXT}
    return {
        "Problem": _object({
            "type": {"type": "string", "const": "about:blank"},
            "title": {"type": "string", "description": "The HTTP status phrase."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong, in one sentence."},
            "errors": {"type": "array", "items": _ref("Error"), "minItems": 1},
        }, description="An RFC 9457 problem with every located error."),
        "Error": _object({
            "path": {"type": "string", "description": "A JSON pointer into the request body or into the record "
                                                      "(\"\" for the whole), or the name of a query parameter."},
            "code": {"type": "string", "description": "A stable code."},
            "message": {"type": "string"},
        }),
        "Health": _object({"status": {"type": "string", "const": "ok"}, "version": _TEXT}),
        "PolicyRef": _object({"id": _TEXT, "version": _TEXT, "hash": _TEXT},
                             description="The exact policy version; `hash` is its content hash."),
        "PolicySummary": _object(summary),
        "PolicyList": _object({"policies": {"type": "array", "items": _ref("PolicySummary")}}),
        "Policy": _object({
            **summary,
            "description": _TEXT,
            "legal_basis": {"type": "array", "items": _TEXT},
            "inputs": _ref("RecordSchema"),
            "outputs": {"type": "array", "items": _TEXT, "description": "The declared outputs' names."},
        }),
        "RecordSchema": {"type": "object", "description": "A JSON Schema (2020-12) of one record."},
        "CheckRequest": _object({"policy": {"type": "string", "description": "The policy's YAML text."}},
                                additionalProperties=False),
        "CheckResult": _object({"valid": {"type": "boolean"},
                                "diagnostics": {"type": "array", "items": _ref("Diagnostic")}}),
        "Diagnostic": _object({
            "file": _TEXT, "line": {"type": "integer"}, "column": {"type": "integer"}, "code": _TEXT,
            "severity": {"enum": ["error", "warning"]}, "message": _TEXT, "hint": _TEXT,
        }),
        "Record": {"type": "object", "description": "One employee's data, shaped as the policy's record schema "
                                                    "(GET /v1/policies/{id}/schema); `id` is echoed back.",
                   "properties": {"id": {"type": ["string", "integer"]}}},
        "EvaluateRequest": _object({
            "records": records,
            "explain": {"type": "boolean", "default": False,
                        "description": "Add `explanation`: sentences in Bahasa Indonesia for every value."},
        }, required=["records"]),
        "EvaluateResponse": _object({"results": {"type": "array", "items": _ref("EvaluationResult")}}),
        "EvaluationResult": {
            **_object({
                "id": {"description": "The record's `id`, echoed back (null when it has none)."},
                "policy": _ref("PolicyRef"),
                "outputs": {"type": "object", "description": "The declared outputs, rounded as the policy says."},
                "values": {"type": "object", "description": "Every named intermediate value, for audit."},
                "explanation": {"type": "array", "items": _TEXT},
                "errors": {"type": "array", "items": _ref("Error"), "minItems": 1,
                           "description": "Why the record could not be evaluated; paths point into the record."},
            }, required=["id", "policy"], description="One record's result (PRODUCT.md, Evaluation result)."),
            "oneOf": [{"required": ["outputs", "values"]}, {"required": ["errors"]}],
        },
        "SubmissionRequest": _object({
            "policy": {"type": "string", "minLength": 1, "description": "A built-in policy id."},
            "period": {"type": "string", "minLength": 1, "description": "The appraisal period, e.g. 2024 or 2024-Q1."},
            "records": records,
        }, additionalProperties=False),
        "Submission": _object({
            "id": _TEXT, "agency": _TEXT, "policy": _ref("PolicyRef"), "period": _TEXT,
            "record_count": {"type": "integer", "minimum": 0}, "created_at": _TIMESTAMP,
            "evaluations": {"type": "array", "items": _object(
                {"id": _TEXT, "record_id": _RECORD_ID, "outputs": {"type": "object"}})},
        }),
        "Evaluation": _object({
            "id": _TEXT, "submission_id": _TEXT, "agency": _TEXT,
            "policy": _object({"id": _TEXT, "hash": _TEXT}), "period": _TEXT,
            "record_id": {"type": ["string", "null"]}, "outputs": {"type": "object"}, "created_at": _TIMESTAMP,
            "inputs": {"type": "object", "description": "The record as submitted (GET by id only)."},
            "values": {"type": "object", "description": "Every intermediate value (GET by id only)."},
        }, required=["id", "submission_id", "agency", "policy", "period", "record_id", "outputs", "created_at"]),
        "EvaluationPage": _object({"evaluations": {"type": "array", "items": _ref("Evaluation")},
                                   "next": {"type": ["string", "null"],
                                            "description": "Pass as `after` for the next page; null on the last."}}),
    }
