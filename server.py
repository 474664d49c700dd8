"""The HTTP service (PRODUCT.md, HTTP): an app factory and thin /v1 routes.

Each route authenticates, parses the request, calls one function of engine.service (where every
rule about who may do what lives) and serialises its answer with engine.evaluate.io.encode, so numbers
stay the exact decimals they are (flask.jsonify would pass them through binary floats). Every
error, whether refused by the service, raised by werkzeug or unexpected, becomes
`application/problem+json` in one place: `problem`.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import cast

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from engine import __version__, service
from engine.errors import FieldError, Problem
from engine.evaluate.io import DuplicateKeyError, decode_input, encode
from engine.i18n import N_, _, language, negotiate, reset_language, set_language
from engine.service import ServiceError, openapi, ratelimit, web
from engine.service.store import Store, database_url, open_store

#: Largest request body, in bytes, unless the configuration says otherwise.
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024
#: Requests per API key (all /v1 routes but health and the OpenAPI document), unless the
#: configuration's RATE_LIMIT_PER_KEY says otherwise; RATELIMIT_ENABLED=False turns limits off.
DEFAULT_RATE_LIMIT_PER_KEY = "600 per minute"
#: Policy checks per API key: each costs a child process (engine.service.sandbox).
DEFAULT_CHECK_RATE_LIMIT_PER_KEY = "30 per minute"
_KEY_ID = re.compile(r"Bearer knj_([0-9a-f]{1,32})_")
#: The filters of GET /v1/evaluations passed to the service as text.
EVALUATION_FILTERS = ("policy", "period", "record_id", "after")

v1 = Blueprint("v1", __name__, url_prefix="/v1")


def create_app(config: dict | None = None) -> Flask:
    """The service on the store at DATABASE_URL (migrations applied on opening)."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=database_url(),
        MAX_CONTENT_LENGTH=DEFAULT_MAX_CONTENT_LENGTH,
        RATE_LIMIT_PER_KEY=DEFAULT_RATE_LIMIT_PER_KEY,
        CHECK_RATE_LIMIT_PER_KEY=DEFAULT_CHECK_RATE_LIMIT_PER_KEY,
    )
    app.config.update(config or {})
    app.extensions["kinerja_store"] = open_store(app.config["DATABASE_URL"])
    ratelimit.init_app(app)
    app.register_blueprint(v1)
    web.init_app(app, csrf_exempt=[v1])  # the pages for people; /v1 authenticates by key, not cookie
    app.register_error_handler(Exception, problem)
    app.before_request(_set_language)
    app.after_request(_say_language)
    app.teardown_request(_reset_language)
    return app


def _set_language() -> None:
    """The API answers in Indonesian unless the request's Accept-Language asks for English (the
    web's pages choose their own language: the reader's switch first, engine.service.web)."""
    if request.path.startswith("/v1"):
        g.kinerja_language = set_language(negotiate(request.headers.get("Accept-Language")))


def _say_language(response: Response) -> Response:
    response.headers["Content-Language"] = language()
    response.vary.add("Accept-Language")
    return response


def _reset_language(_error=None) -> None:
    token = g.pop("kinerja_language", None)
    if token is not None:
        reset_language(token)


# Parsing and serialising ---------------------------------------------------------------------


def _rate_key() -> str:
    """Whose requests a limit counts: the API key's id (read from the key's own text, so counting
    needs no database), else the client's address."""
    found = _KEY_ID.match(request.headers.get("Authorization", ""))
    return f"key:{found.group(1)}" if found else f"addr:{request.remote_addr}"


#: Never limited: monitors and editors read these freely.
UNLIMITED_ENDPOINTS = ("v1.health", "v1.openapi_document")


def _too_many() -> str:
    return _("too many requests with this API key; wait the seconds that Retry-After says, then send again")


ratelimit.limiter.limit(
    lambda: current_app.config["RATE_LIMIT_PER_KEY"],
    key_func=_rate_key,
    error_message=_too_many,
    exempt_when=lambda: request.endpoint in UNLIMITED_ENDPOINTS,
)(v1)


def _store() -> Store:
    return current_app.extensions["kinerja_store"]


def _caller() -> service.Caller:
    return service.authenticate(_store(), request.headers.get("Authorization"))


def _json(value, status: int = 200, headers: dict | None = None) -> Response:
    return Response(encode(value), status=status, mimetype="application/json", headers=headers)


def _body(raw: bytes) -> dict:
    """The request body as a JSON object, its numbers exact."""
    try:
        body = decode_input(raw)
    except DuplicateKeyError as error:
        raise ServiceError(
            422, "duplicate_key", str(error), [FieldError("duplicate_key", str(e), e.pointer) for e in error.every]
        ) from None
    except ValueError as error:
        raise ServiceError(400, "malformed_json", _("the body is not valid JSON: {problem}", problem=error)) from None
    if not isinstance(body, dict):
        raise ServiceError(
            422, "invalid_body", _("the body must be a JSON object"), [FieldError("type", _("must be a JSON object"))]
        )
    return body


def _whole_number(name: str, text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise ServiceError(
            422,
            name,
            _("{name} must be a whole number", name=name),
            [FieldError("type", _("must be a whole number, got {got}", got=f"'{text}'"), name)],
        )
    return int(text)


# Routes ----------------------------------------------------------------------------------------


@v1.get("/health")
def health():
    return _json({"status": "ok", "version": __version__})


@v1.get("/openapi.json")
def openapi_document():
    return _json(openapi.document())


@v1.get("/schemas/policy.json")
def policy_file_schema():
    return _json(service.policy_file_schema())


@v1.get("/policies")
def list_policies():
    _caller()
    return _json({"policies": service.list_policies()})


@v1.get("/policies/<policy_id>")
def get_policy(policy_id: str):
    _caller()
    return _json(service.get_policy(policy_id))


@v1.get("/policies/<policy_id>/schema")
def policy_schema(policy_id: str):
    _caller()
    return _json(service.policy_schema(policy_id))


@v1.post("/policies/check")
@ratelimit.limiter.limit(
    lambda: current_app.config["CHECK_RATE_LIMIT_PER_KEY"], key_func=_rate_key, error_message=_too_many
)
def check_policy():
    _caller()
    body = _body(request.get_data())
    if not isinstance(body.get("policy"), str):
        code = "type" if "policy" in body else "required"
        raise ServiceError(
            422,
            "invalid_body",
            _("the body needs `policy`: the policy's YAML text"),
            [FieldError(code, _("the policy's YAML text is required"), "/policy")],
        )
    return _json(service.check_policy_text(body["policy"]))


@v1.post("/policies")
def publish_policy():
    status, published = service.publish_policy(_store(), _caller(), _body(request.get_data()))
    return _json(published, status)


@v1.get("/policies/<policy_id>/versions")
def list_versions(policy_id: str):
    _caller()
    return _json(service.list_versions(_store(), policy_id))


@v1.get("/policies/<policy_id>/versions/<digest>")
def get_version(policy_id: str, digest: str):
    _caller()
    return _json(service.get_version(_store(), policy_id, digest))


@v1.post("/policies/<policy_id>/evaluate")
def evaluate(policy_id: str):
    _caller()
    raw = request.get_data()
    return _json(service.evaluate(policy_id, _body(raw), _store(), raw))


@v1.post("/submissions")
def submit():
    caller, raw = _caller(), request.get_data()
    status, stored, replayed = service.submit(_store(), caller, _body(raw), request.headers.get("Idempotency-Key"), raw)
    headers = {"Location": f"{v1.url_prefix}/submissions/{stored['id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(stored, status, headers)


@v1.get("/submissions/<submission_id>")
def get_submission(submission_id: str):
    return _json(service.get_submission(_store(), _caller(), submission_id))


@v1.get("/evaluations")
def list_evaluations():
    caller = _caller()
    filters = {name: request.args[name] for name in EVALUATION_FILTERS if name in request.args}
    if "limit" in request.args:
        filters["limit"] = _whole_number("limit", request.args["limit"])
    return _json(service.list_evaluations(_store(), caller, **filters))


@v1.get("/evaluations/<evaluation_id>")
def get_evaluation(evaluation_id: str):
    return _json(service.get_evaluation(_store(), _caller(), evaluation_id))


@v1.post("/evaluations/<evaluation_id>/replay")
def replay_evaluation(evaluation_id: str):
    return _json(service.replay_evaluation(_store(), _caller(), evaluation_id))


@v1.post("/impact")
def impact():
    caller = _caller()
    return _json(service.impact_of_change(_store(), caller, _body(request.get_data())))


# Errors --------------------------------------------------------------------------------------


def problem(error: Exception) -> Response:
    """Any error as an RFC 9457 problem with located `errors`; never a traceback. Outside /v1 (a
    page that does not exist, say) the error is the web's HTML page instead."""
    if not request.path.startswith(cast(str, v1.url_prefix)) and "kinerja_web" in current_app.extensions:
        return web.error_page(error)
    headers: dict[str, str] = {}
    if isinstance(error, ServiceError):
        status, detail, errors = error.status, error.message, error.field_errors
        if status >= 500:
            current_app.logger.error("%s %s: %s %s", request.method, request.path, error.message, error.errors)
    elif isinstance(error, HTTPException):
        status = error.code or 500
        detail = (
            _(_DETAILS[status], method=request.method, path=request.path)
            if status in _DETAILS
            else error.description or _title(status)
        )
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if isinstance(error, RequestEntityTooLarge) and limit:
            detail = _("the request body is over the limit of {limit} bytes", limit=f"{limit:,}")
        headers.update((name, value) for name, value in error.get_headers() if name in ("Allow", "Retry-After"))
        errors = (FieldError(_code(status), detail),)
    elif service.unavailable(error):
        current_app.logger.error("%s %s: storage unavailable: %s", request.method, request.path, error)
        status = 503
        detail = _("the database cannot answer just now; nothing was stored; send the request again shortly")
        errors = (FieldError("unavailable", detail),)
        headers["Retry-After"] = str(service.RETRY_AFTER_SECONDS)
    else:
        current_app.logger.exception("unexpected error answering %s %s", request.method, request.path)
        status, detail = 500, _("the server could not answer this request; the error has been logged")
        errors = (FieldError("internal", detail),)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="kinerja"'
    if status in (429, 503):
        headers.setdefault("Retry-After", str(service.RETRY_AFTER_SECONDS))
    body = Problem(status, _title(status), detail, errors).to_json()
    return Response(encode(body), status=status, mimetype="application/problem+json", headers=headers)


#: Titles of the statuses the API answers with (HTTP's own phrases are the English ones).
_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    409: N_("Conflict"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Entity"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}
#: What werkzeug's own refusals mean, in the caller's language (its descriptions are English).
_DETAILS = {404: N_("there is nothing at {path}"), 405: N_("{method} is not allowed on {path}")}


def _title(status: int) -> str:
    if status in _TITLES:
        return _(_TITLES[status])
    return _phrase(status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _code(status: int) -> str:
    return _phrase(status).lower().replace(" ", "_").replace("-", "_")
