"""Errors as values: the typed field errors and problems write exactly the JSON the API answers with."""

from __future__ import annotations

import dataclasses

import pytest

from engine.errors import FieldError, Problem
from engine.service import ServiceError


def test_a_field_error_writes_path_code_message_and_a_hint_only_when_it_has_one():
    assert FieldError("required", "a list of records is required", "/records").to_json() == {
        "path": "/records",
        "code": "required",
        "message": "a list of records is required",
    }
    assert FieldError("type", "text", "/period", hint="write 2024").to_json()["hint"] == "write 2024"
    with pytest.raises(dataclasses.FrozenInstanceError):
        FieldError("x", "y").code = "z"  # type: ignore[misc]


def test_a_problem_is_the_rfc_9457_body_with_every_located_error():
    problem = Problem(
        422,
        "Unprocessable Entity",
        "the submission is incomplete",
        (FieldError("required", "policy is required (text)", "/policy"),),
    )
    assert problem.to_json() == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "the submission is incomplete",
        "errors": [{"path": "/policy", "code": "required", "message": "policy is required (text)"}],
    }


def test_a_refusal_without_located_errors_has_one_at_the_whole_request():
    refusal = ServiceError(404, "not_found", "no key k1")
    assert refusal.field_errors == (FieldError("not_found", "no key k1"),)
    assert refusal.errors == [{"path": "", "code": "not_found", "message": "no key k1"}]


def test_a_refusal_takes_a_record_error_as_the_evaluators_give_it():
    refusal = ServiceError(
        422,
        "invalid_records",
        "1 of 1 records have errors",
        [{"path": "/records/0/x", "code": "type", "message": "a number"}],
    )
    assert refusal.field_errors == (FieldError("type", "a number", "/records/0/x"),)
