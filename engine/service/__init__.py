"""The service: what the HTTP API, the web and the CLI do with stored data. Routes and commands
parse, call one of these functions and serialise; every rule about who may do what lives here.

The code lives in one module per resource: `common` (the caller, refusals, limits, audit),
`keys`, `policies` (listing, checking, publishing, versions), `evaluations` (evaluate, submit,
read, replay), `impact`; and beside them `accounts` (users), `submissions` (uploads),
`review`, `workbench`, `replay`. This package re-exports the names its callers have always used
(`from engine import service; service.publish_policy(...)`), so server.py, the web, the CLI and
the tests read one surface while each resource stays a module of its own; the private names
re-exported below are the ones other service modules call.
"""

from __future__ import annotations

from engine.service.common import (  # noqa: F401
    EVALUATION_SECONDS,
    LOCAL,
    MAX_EXPLAINED_RECORDS,
    MAX_PAGE,
    MAX_RECORDS_PER_REQUEST,
    MAX_RESPONSE_ERRORS,
    RETRY_AFTER_SECONDS,
    ROLES,
    Caller,
    ServiceError,
    _audit,
    _fits,
    _visible,
    _visible_row,
    capped_errors,
    iso,
    require,
    unavailable,
)
from engine.service.evaluations import (  # noqa: F401
    _keep_policy_version,
    evaluate,
    get_evaluation,
    get_submission,
    list_evaluations,
    replay_evaluation,
    replay_evaluations,
    submit,
)
from engine.service.impact import (  # noqa: F401
    MAX_IMPACT_EVALUATIONS,
    comparable_policy,
    impact_of_change,
    stored_impact,
)
from engine.service.keys import authenticate, create_key, has_keys, list_keys, revoke_key  # noqa: F401
from engine.service.policies import (  # noqa: F401
    VERSION_LENGTH,
    _chooser,
    check_policy_text,
    check_policy_text_here,
    failing_cases,
    get_policy,
    get_version,
    list_policies,
    list_versions,
    load_policy,
    policies_in_force,
    policy_file_schema,
    policy_schema,
    publish_policy,
    published_dir,
    published_policy_ids,
)
