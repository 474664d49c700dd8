"""The OpenAPI 3.1 document of the HTTP service (PRODUCT.md, HTTP), served at /v1/openapi.json.

Built by a function rather than kept as a file so that the limits it states (records per
request, page size, the Idempotency-Key length) are the service's own constants. Every error
response is `application/problem+json` with located `errors`.
"""

from __future__ import annotations

from engine import __version__
from engine.evaluate.records import PERIOD_PATTERN
from engine.service.common import MAX_PAGE, MAX_RECORDS_PER_REQUEST
from engine.service.impact import MAX_IMPACT_EVALUATIONS
from engine.service.store import IDEMPOTENCY_KEY_LENGTH

#: Longest Idempotency-Key the service accepts (engine.service.submit).

PROBLEM = "application/problem+json"

#: DOMAIN.md's worked pp-46-2011 example: nilai SKP 88.67, nilai prestasi kerja 85.2, Baik.
EXAMPLE_RECORD = {
    "id": "199001012020011001",
    "kegiatan": [
        {
            "kuantitas": {"target": 1, "realisasi": 1},
            "kualitas": {"target": 100, "realisasi": 90},
            "waktu": {"target": 12, "realisasi": 12},
        }
    ],
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
    """The error answers of a keyed operation: those named, and the rate limit and unavailability
    every keyed operation can meet."""
    return {
        str(status): {"$ref": f"#/components/responses/{_ERROR_RESPONSES[status][0]}"}
        for status in sorted(set(statuses) | {429, 503})
    }


_ERROR_RESPONSES = {
    400: ("MalformedJson", "The body is not JSON; `detail` gives the line and column."),
    401: ("Unauthenticated", "No API key, or a key that is unknown or revoked."),
    403: ("Forbidden", "The key's role may not do this (a reviewer or admin submitting, for example)."),
    404: ("NotFound", "No such object, or one that belongs to another agency."),
    413: (
        "TooLarge",
        f"The body is over the server's size limit (10 MB by default), or holds more than "
        f"{MAX_RECORDS_PER_REQUEST} records.",
    ),
    409: ("Conflict", "The same policy id and version was published before with other content."),
    422: (
        "Unprocessable",
        "The request is well-formed JSON but invalid; each error points into the body "
        "(a JSON pointer such as /records/3/kreativitas) or names the query parameter.",
    ),
    429: (
        "TooManyRequests",
        "The API key sent more requests than its rate limit allows; wait the seconds that `Retry-After` gives.",
    ),
    503: (
        "Unavailable",
        "The database cannot answer just now, or every policy-check slot is busy; nothing "
        "was stored. Send the same request again after `Retry-After` seconds.",
    ),
}

_POLICY_ID = {
    "name": "policy_id",
    "in": "path",
    "required": True,
    "description": "A built-in policy id.",
    "schema": {"type": "string", "minLength": 1},
    "example": "pp-46-2011",
}


def _id_parameter(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


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
                "Send an API key as `Authorization: Bearer KEY` everywhere except `/v1/health`, "
                "`/v1/openapi.json` and `/v1/schemas/policy.json`. An agency key reads and writes its own agency's data only; a reviewer "
                "key reads everything and writes nothing; an admin key manages keys and policies and reads "
                "everything. Another agency's object is reported as absent (404).\n\n"
                "Numbers are exact decimals, read from and written as their JSON text: 88.6666666667 is "
                "the number written, never a binary float. Errors are `application/problem+json` with "
                "`errors: [{path, code, message}]`, where `path` is a JSON pointer into the request body "
                "(or the name of a query parameter)."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [
            {"name": "service", "description": "Health and this document."},
            {"name": "policies", "description": "Built-in policies and stateless evaluation."},
            {"name": "submissions", "description": "Stored submissions and their evaluations."},
        ],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key made with `kinerja keys create`.",
                }
            },
            "schemas": _schemas(),
            "responses": {
                name: {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}
                for name, description in _ERROR_RESPONSES.values()
            },
        },
    }


def _paths() -> dict:
    return {
        "/v1/health": {
            "get": {
                "operationId": "health",
                "tags": ["service"],
                "summary": "Whether the service is up.",
                "security": [],
                "responses": {"200": _json(_ref("Health"), "The service answers.")},
            }
        },
        "/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "tags": ["service"],
                "summary": "This document.",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
            }
        },
        "/v1/schemas/policy.json": {
            "get": {
                "operationId": "policyFileSchema",
                "tags": ["service"],
                "security": [],
                "summary": "The JSON Schema of a policy file as written, for editors.",
                "description": (
                    "A child policy that changes one weight or removes an input with `~` validates; descriptions are "
                    "in Bahasa Indonesia. In VS Code (YAML extension), write on the policy's first line "
                    "`# yaml-language-server: $schema=https://HOST/v1/schemas/policy.json`."
                ),
                "responses": {"200": _json({"type": "object"}, "A JSON Schema (draft 2020-12).")},
            }
        },
        "/v1/policies": {
            "get": {
                "operationId": "listPolicies",
                "tags": ["policies"],
                "summary": "The built-in policies.",
                "responses": {
                    "200": _json(_ref("PolicyList"), "Every built-in policy that passes its checks."),
                    **_errors(401),
                },
            },
            "post": {
                "operationId": "publishPolicy",
                "tags": ["policies"],
                "summary": "Publish a policy version sent as YAML text (admin keys only); stored for good.",
                "description": (
                    "The policy must pass every check, and fit the other versions of its id, built in and published: "
                    "no two in force on one day, no day between them without one (`versions.overlap`, "
                    "`versions.gap`, located in the text sent as `policy.yaml:line:column`). Its `extends` names a "
                    "built-in or published id. Its own test cases must pass: failing ones are listed (`test.failed`, "
                    "422 `failing_tests`). Publishing the same text again answers 200 with the same version; "
                    "the same id and version with other content is refused (409). A published version never changes."
                ),
                "requestBody": _request("CheckRequest", {"policy": EXAMPLE_POLICY}),
                "responses": {
                    "201": _json(_ref("PolicyVersion"), "Published."),
                    "200": _json(_ref("PolicyVersion"), "Published before, with the same content."),
                    **_errors(400, 401, 403, 409, 413, 422),
                },
            },
        },
        "/v1/policies/{policy_id}/versions": {
            "get": {
                "operationId": "listPolicyVersions",
                "tags": ["policies"],
                "summary": "Every version of a policy id, built in and published, earliest validity first.",
                "parameters": [_POLICY_ID],
                "responses": {"200": _json(_ref("PolicyVersionList"), "The versions."), **_errors(401, 404)},
            }
        },
        "/v1/policies/{policy_id}/versions/{digest}": {
            "get": {
                "operationId": "getPolicyVersion",
                "tags": ["policies"],
                "summary": "One version by its content hash: metadata, merged document and (if published) its text.",
                "parameters": [_POLICY_ID, _id_parameter("digest", "The version's hash, `sha256:HEX` or `HEX`.")],
                "responses": {"200": _json(_ref("PolicyVersionDocument"), "The version."), **_errors(401, 404)},
            }
        },
        "/v1/policies/check": {
            "post": {
                "operationId": "checkPolicy",
                "tags": ["policies"],
                "summary": "Check a policy sent as YAML text (it may extend a built-in policy).",
                "requestBody": _request("CheckRequest", {"policy": EXAMPLE_POLICY}),
                "responses": {
                    "200": _json(_ref("CheckResult"), "The diagnostics; `valid` is false if any is an error."),
                    **_errors(400, 401, 413, 422),
                },
            }
        },
        "/v1/policies/{policy_id}": {
            "get": {
                "operationId": "getPolicy",
                "tags": ["policies"],
                "summary": "One policy: metadata, inputs, outputs.",
                "parameters": [_POLICY_ID],
                "responses": {"200": _json(_ref("Policy"), "The policy."), **_errors(401, 404)},
            }
        },
        "/v1/policies/{policy_id}/schema": {
            "get": {
                "operationId": "getPolicySchema",
                "tags": ["policies"],
                "summary": "The JSON Schema (2020-12) of one record for this policy.",
                "parameters": [_POLICY_ID],
                "responses": {"200": _json(_ref("RecordSchema"), "The record schema."), **_errors(401, 404)},
            }
        },
        "/v1/policies/{policy_id}/evaluate": {
            "post": {
                "operationId": "evaluate",
                "tags": ["policies"],
                "summary": "Evaluate records against a policy; nothing is stored. Any role.",
                "description": "One result per record, in order. A record that cannot be evaluated gets `errors` "
                "(paths into that record) and no outputs; the others are still evaluated.",
                "parameters": [_POLICY_ID],
                "requestBody": _request("EvaluateRequest", {"records": [EXAMPLE_RECORD], "explain": False}),
                "responses": {
                    "200": _json(_ref("EvaluateResponse"), "A result for every record."),
                    **_errors(400, 401, 404, 413, 422),
                },
            }
        },
        "/v1/submissions": {
            "post": {
                "operationId": "submit",
                "tags": ["submissions"],
                "summary": "Store a submission and the evaluation of every record (agency keys only).",
                "description": (
                    "All or nothing: if any record has an error, nothing is stored and every error is reported at "
                    "`/records/N/...`. With an `Idempotency-Key`, a retry of the same request returns the first "
                    "response and stores nothing new; the same key with a different body is refused (422)."
                ),
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Any text chosen by the agency, unique per submission.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_LENGTH},
                    }
                ],
                "requestBody": _request(
                    "SubmissionRequest", {"policy": "pp-46-2011", "period": "2020", "records": [EXAMPLE_RECORD]}
                ),
                "responses": {
                    "201": {
                        "description": "Stored (or, for a retry, stored before).",
                        "headers": {"Location": {"description": "The new submission.", "schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": _ref("Submission")}},
                    },
                    **_errors(400, 401, 403, 413, 422),
                },
            }
        },
        "/v1/submissions/{submission_id}": {
            "get": {
                "operationId": "getSubmission",
                "tags": ["submissions"],
                "summary": "A stored submission.",
                "parameters": [_id_parameter("submission_id", "The id returned when it was stored.")],
                "responses": {
                    "200": _json(_ref("Submission"), "The submission, as first returned."),
                    **_errors(401, 404),
                },
            }
        },
        "/v1/evaluations": {
            "get": {
                "operationId": "listEvaluations",
                "tags": ["submissions"],
                "summary": "Stored evaluations the key may read, oldest first, a page at a time.",
                "parameters": [
                    _query("policy", "Only this policy id."),
                    _query("period", "Only this period."),
                    _query("record_id", "Only this record id (for example a NIP)."),
                    _query(
                        "limit",
                        f"Page size, 1 to {MAX_PAGE}.",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100},
                    ),
                    _query("after", "Continue after this evaluation id (the previous page's `next`)."),
                ],
                "responses": {"200": _json(_ref("EvaluationPage"), "A page of evaluations."), **_errors(401, 422)},
            }
        },
        "/v1/evaluations/{evaluation_id}": {
            "get": {
                "operationId": "getEvaluation",
                "tags": ["submissions"],
                "summary": "A stored evaluation with its inputs and every intermediate value.",
                "parameters": [_id_parameter("evaluation_id", "An evaluation id.")],
                "responses": {"200": _json(_ref("Evaluation"), "The evaluation."), **_errors(401, 404)},
            }
        },
        "/v1/evaluations/{evaluation_id}/replay": {
            "post": {
                "operationId": "replayEvaluation",
                "tags": ["submissions"],
                "summary": "Evaluate a stored evaluation again under the exact policy version it used, and compare.",
                "description": (
                    "The policy is rebuilt from the version stored under the evaluation's hash, the stored inputs are "
                    "evaluated again, and the outputs and values are compared exactly with the stored ones. Every "
                    "difference is reported at its JSON pointer into the evaluation. A reviewer or admin may replay "
                    "any evaluation, an agency its own; each replay is audited."
                ),
                "parameters": [_id_parameter("evaluation_id", "An evaluation id.")],
                "responses": {
                    "200": _json(_ref("Replay"), "The comparison; `same` is false if anything differs."),
                    **_errors(401, 404),
                },
            }
        },
        "/v1/impact": {
            "post": {
                "operationId": "impact",
                "tags": ["submissions"],
                "summary": "Whom a change of policy would move, over the stored submissions (reviewer, admin).",
                "description": (
                    "Evaluates the stored inputs of the evaluations selected by `policy` and `period` under both "
                    "policies and compares them: the transition matrix of the label output (predikat), the records "
                    f"that move, and the totals of numeric outputs. At most {MAX_IMPACT_EVALUATIONS:,} evaluations per "
                    "request (422 beyond: narrow the selection)."
                ),
                "requestBody": _request("ImpactRequest", {"old": "pp-46-2011", "new": "pp-46-2011", "period": "2020"}),
                "responses": {
                    "200": _json(_ref("Impact"), "The impact of the change."),
                    **_errors(400, 401, 403, 413, 422),
                },
            }
        },
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
    records = {
        "type": "array",
        "items": _ref("Record"),
        "maxItems": MAX_RECORDS_PER_REQUEST,
        "description": f"At most {MAX_RECORDS_PER_REQUEST} records per request; send several requests.",
    }
    summary = {
        "id": _TEXT,
        "version": _TEXT,
        "hash": _TEXT,
        "title": _TEXT,
        "berlaku_mulai": _OPTIONAL_TEXT,
        "berlaku_sampai": _OPTIONAL_TEXT,
        "extends": _OPTIONAL_TEXT,
    }
    version = {
        "id": _TEXT,
        "version": _TEXT,
        "hash": _TEXT,
        "berlaku_mulai": _OPTIONAL_TEXT,
        "berlaku_sampai": _OPTIONAL_TEXT,
        "source": {"enum": ["bundled", "published"]},
        "published_at": {"type": ["string", "null"], "format": "date-time"},
    }
    return {
        "Problem": _object(
            {
                "type": {"type": "string", "const": "about:blank"},
                "title": {"type": "string", "description": "The HTTP status phrase."},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string", "description": "What went wrong, in one sentence."},
                "errors": {"type": "array", "items": _ref("Error"), "minItems": 1},
            },
            description="An RFC 9457 problem with every located error.",
        ),
        "Error": _object(
            {
                "path": {
                    "type": "string",
                    "description": "A JSON pointer into the request body or into the record "
                    '("" for the whole), or the name of a query parameter.',
                },
                "code": {"type": "string", "description": "A stable code."},
                "message": {"type": "string"},
            }
        ),
        "Health": _object({"status": {"type": "string", "const": "ok"}, "version": _TEXT}),
        "PolicyRef": _object(
            {"id": _TEXT, "version": _TEXT, "hash": _TEXT},
            description="The exact policy version; `hash` is its content hash.",
        ),
        "PolicySummary": _object(summary),
        "PolicyList": _object({"policies": {"type": "array", "items": _ref("PolicySummary")}}),
        "Policy": _object(
            {
                **summary,
                "description": _TEXT,
                "legal_basis": {"type": "array", "items": _TEXT},
                "inputs": _ref("RecordSchema"),
                "outputs": {"type": "array", "items": _TEXT, "description": "The declared outputs' names."},
            }
        ),
        "RecordSchema": {"type": "object", "description": "A JSON Schema (2020-12) of one record."},
        "PolicyVersion": _object(version),
        "PolicyVersionList": _object({"id": _TEXT, "versions": {"type": "array", "items": _ref("PolicyVersion")}}),
        "PolicyVersionDocument": _object(
            {
                **version,
                "document": {"type": "object", "description": 'The merged policy; exact numbers as {"$number": text}.'},
                "text": {"type": ["string", "null"], "description": "The YAML text as published (null if built in)."},
            }
        ),
        "CheckRequest": _object(
            {"policy": {"type": "string", "description": "The policy's YAML text."}}, additionalProperties=False
        ),
        "CheckResult": _object(
            {"valid": {"type": "boolean"}, "diagnostics": {"type": "array", "items": _ref("Diagnostic")}}
        ),
        "Diagnostic": _object(
            {
                "file": _TEXT,
                "line": {"type": "integer"},
                "column": {"type": "integer"},
                "code": _TEXT,
                "severity": {"enum": ["error", "warning"]},
                "message": _TEXT,
                "hint": _TEXT,
            }
        ),
        "Record": {
            "type": "object",
            "description": "One employee's data, shaped as the policy's record schema "
            "(GET /v1/policies/{id}/schema); `id` is echoed back.",
            "properties": {
                "id": {"type": ["string", "integer"]},
                "periode": {
                    "type": "string",
                    "description": "The record's period: it chooses the version of the policy in force.",
                },
            },
        },
        "EvaluateRequest": _object(
            {
                "records": records,
                "explain": {
                    "type": "boolean",
                    "default": False,
                    "description": "Add `explanation`: sentences in Bahasa Indonesia for every value.",
                },
                "period": {
                    "type": "string",
                    "pattern": PERIOD_PATTERN,
                    "description": "The period (2023, 2023-07 or 2023-07-15) that chooses the version in force, "
                    "for records without their own `periode` (default: today).",
                },
            },
            required=["records"],
        ),
        "EvaluateResponse": _object({"results": {"type": "array", "items": _ref("EvaluationResult")}}),
        "EvaluationResult": {
            **_object(
                {
                    "id": {"description": "The record's `id`, echoed back (null when it has none)."},
                    "policy": _ref("PolicyRef"),
                    "outputs": {"type": "object", "description": "The declared outputs, rounded as the policy says."},
                    "values": {"type": "object", "description": "Every named intermediate value, for audit."},
                    "explanation": {"type": "array", "items": _TEXT},
                    "errors": {
                        "type": "array",
                        "items": _ref("Error"),
                        "minItems": 1,
                        "description": "Why the record could not be evaluated; paths point into the record.",
                    },
                },
                required=["id", "policy"],
                description="One record's result (PRODUCT.md, Evaluation result).",
            ),
            "oneOf": [{"required": ["outputs", "values"]}, {"required": ["errors"]}],
        },
        "SubmissionRequest": _object(
            {
                "policy": {"type": "string", "minLength": 1, "description": "A built-in policy id."},
                "period": {
                    "type": "string",
                    "minLength": 1,
                    "description": "The appraisal period, e.g. 2024 or 2024-Q1.",
                },
                "records": records,
            },
            additionalProperties=False,
        ),
        "Submission": _object(
            {
                "id": _TEXT,
                "agency": _TEXT,
                "policy": _ref("PolicyRef"),
                "period": _TEXT,
                "record_count": {"type": "integer", "minimum": 0},
                "created_at": _TIMESTAMP,
                "evaluations": {
                    "type": "array",
                    "items": _object({"id": _TEXT, "record_id": _RECORD_ID, "outputs": {"type": "object"}}),
                },
            }
        ),
        "Evaluation": _object(
            {
                "id": _TEXT,
                "submission_id": _TEXT,
                "agency": _TEXT,
                "policy": _object({"id": _TEXT, "hash": _TEXT}),
                "period": _TEXT,
                "record_id": {"type": ["string", "null"]},
                "outputs": {"type": "object"},
                "created_at": _TIMESTAMP,
                "inputs": {"type": "object", "description": "The record as submitted (GET by id only)."},
                "values": {"type": "object", "description": "Every intermediate value (GET by id only)."},
            },
            required=["id", "submission_id", "agency", "policy", "period", "record_id", "outputs", "created_at"],
        ),
        "EvaluationPage": _object(
            {
                "evaluations": {"type": "array", "items": _ref("Evaluation")},
                "next": {
                    "type": ["string", "null"],
                    "description": "Pass as `after` for the next page; null on the last.",
                },
            }
        ),
        "Replay": _object(
            {
                "evaluation_id": _TEXT,
                "policy_id": _TEXT,
                "policy_hash": {"type": "string", "description": "The stored policy version replayed."},
                "same": {"type": "boolean", "description": "True when the replay reproduces the stored evaluation."},
                "differences": {"type": "array", "items": _ref("Difference")},
            }
        ),
        "Difference": _object(
            {
                "path": {
                    "type": "string",
                    "description": "A JSON pointer into the evaluation, e.g. /outputs/predikat.",
                },
                "stored": {"description": "The stored value; absent when there is none at this place."},
                "replayed": {"description": "The replayed value; absent when there is none at this place."},
                "message": {"type": "string", "description": "Why, when the values alone do not say."},
            },
            required=["path"],
        ),
        "ImpactRequest": _object(
            {
                "old": {
                    "type": "string",
                    "minLength": 1,
                    "description": "A built-in policy id, or a stored version's hash.",
                },
                "new": {
                    "type": "string",
                    "minLength": 1,
                    "description": "A built-in policy id, or a stored version's hash.",
                },
                "policy": {"type": ["string", "null"], "description": "Only evaluations made under this policy id."},
                "period": {"type": ["string", "null"], "description": "Only evaluations of this period."},
            },
            required=["old", "new"],
            additionalProperties=False,
        ),
        "Impact": _object(
            {
                "old": _ref("PolicyRef"),
                "new": _ref("PolicyRef"),
                "policy": _OPTIONAL_TEXT,
                "period": _OPTIONAL_TEXT,
                "records": {"type": "integer", "minimum": 0, "description": "Stored evaluations evaluated."},
                "label_output": {"type": ["string", "null"], "description": "The output whose moves are counted."},
                "transitions": {
                    "type": "array",
                    "items": _object({"old": {}, "new": {}, "count": {"type": "integer"}}),
                    "description": "Records per (old label, new label); every compared record once.",
                },
                "moved": {"type": "array", "items": _object({"id": _RECORD_ID, "old": {}, "new": {}})},
                "totals": {
                    "type": "object",
                    "additionalProperties": _object(
                        {"old": {"type": "number"}, "new": {"type": "number"}, "change": {"type": "number"}}
                    ),
                },
                "failed": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": _RECORD_ID,
                            "side": {"enum": ["old", "new", "both"]},
                            "errors": {"type": "array", "items": _ref("Error")},
                        }
                    ),
                },
            }
        ),
    }
