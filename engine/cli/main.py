"""The `kinerja` command's entry: the parser (every command group's arguments, worded in the
language asked for) and the dispatch to the group's module, imported only when its command runs,
so `kinerja eval` never pays for the database and the web a `kinerja serve` needs.

Exit codes: 0 all good; 1 a check failed, a test failed or some record had errors (the good
records are still written); 2 a usage error or a policy that cannot be loaded.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Callable

from engine import __version__
from engine.cli.common import DB_HELP, EXIT_OK, EXIT_USAGE, INPUT_FORMATS, _out
from engine.i18n import LANGUAGES, _, language, using

#: Allocations between two young-generation collections (CPython's default is 700). A policy's
#: model is many small objects that live as long as the command and make no cycles; collecting
#: every 700 of them spent a tenth of `kinerja check`'s second on a 4,000-value policy.
GC_THRESHOLD = (10_000, 20, 20)


def run() -> None:
    """The `kinerja` program: `main` in a process of its own, its collector tuned for a short life."""
    gc.freeze()  # what the imports made lives as long as the process: never scan it again
    gc.set_threshold(*GC_THRESHOLD)
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    with using(_asked_language(sys.argv[1:] if argv is None else argv)):  # the help is in it too
        parser = _parser()
        args = parser.parse_args(argv)
    if args.version:
        _out(f"kinerja {__version__}")
        return EXIT_OK
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with using(args.lang):  # --lang, else KINERJA_LANG, else Indonesian
        args.lang = language()
        try:
            return _command(args.run)(args)
        except BrokenPipeError:  # `kinerja eval ... | head`
            return EXIT_OK
        except KeyboardInterrupt:
            return 130


def _asked_language(argv: list[str]) -> str | None:
    """The --lang given anywhere on the command line, before the parser (whose help it words) exists."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kinerja", description=_("Check, test and evaluate ASN appraisal policies."))
    parser.add_argument("--version", action="store_true", help=_("print the version and stop"))
    parser.add_argument(
        "--lang", choices=LANGUAGES, default=None, help=_("language of messages: id (default) or en; also KINERJA_LANG")
    )
    # Every command takes --lang too (after its name); given there, it wins over the global one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=_("language of messages (id or en)")
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("policies", parents=[common], help=_("list the policies available"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.set_defaults(run="policy.cmd_policies")

    p = sub.add_parser(
        "check", parents=[common], help=_("check policies for mistakes (all available when none is named)")
    )
    p.add_argument("targets", nargs="*", metavar="TARGET", help=_("policy id or file"))
    p.add_argument("--json", action="store_true", help=_("print diagnostics as JSON"))
    p.set_defaults(run="policy.cmd_check")

    p = sub.add_parser("test", parents=[common], help=_("run the policies' own test cases and report coverage"))
    p.add_argument("targets", nargs="*", metavar="TARGET", help=_("policy id or file"))
    p.add_argument(
        "--require-coverage", action="store_true", help=_("fail unless every table row and matrix cell is reached")
    )
    p.set_defaults(run="policy.cmd_test")

    p = sub.add_parser("eval", parents=[common], help=_("evaluate records"))
    p.add_argument("--policy", required=True, metavar="ID_OR_FILE")
    p.add_argument(
        "inputs", nargs="*", metavar="INPUT", help=_("JSON, JSON Lines, CSV or .xlsx file; '-' for standard input")
    )
    p.add_argument("-o", "--output", metavar="OUT", help=_("write here instead of standard output"))
    p.add_argument(
        "--format", choices=("jsonl", "json", "csv", "xlsx"), default="jsonl", help=_("output format (default jsonl)")
    )
    p.add_argument("--input-format", choices=INPUT_FORMATS, help=_("input format (default: from the file name)"))
    p.add_argument("--explain", action="store_true", help=_("add an explanation to each result"))
    p.add_argument("--trace", action="store_true", help=_("add the trace to each result"))
    p.add_argument(
        "--period",
        metavar="P",
        help=_(
            "the period (2023, 2023-07, 2023-07-15) that chooses the version "
            "in force, for records without their own `periode` (default: today)"
        ),
    )
    p.add_argument("--outputs-only", action="store_true", help=_("leave out the audit values (only the outputs)"))
    p.add_argument("--explain-engine", action="store_true", help=_("say which path evaluated how many records"))
    p.add_argument("--columns", action="store_true", help=_("evaluate JSON Lines in columns too (Parquet always is)"))
    p.add_argument(
        "--dask", metavar="SCHEDULER", help=_("evaluate a Parquet file on a Dask cluster ('local' starts one)")
    )
    p.set_defaults(run="evaluate.cmd_eval")

    p = sub.add_parser(
        "explain", parents=[common], help=_("explain, in sentences, how each record's result came about")
    )
    p.add_argument("--policy", required=True, metavar="ID_OR_FILE")
    p.add_argument("inputs", nargs="*", metavar="INPUT")
    p.add_argument("--input-format", choices=INPUT_FORMATS)
    p.add_argument(
        "--what-if",
        action="store_true",
        help=_("also the smallest change of one input that reaches the next better predikat"),
    )
    p.set_defaults(run="evaluate.cmd_explain")

    p = sub.add_parser(
        "distribution", parents=[common], help=_("check the unit-level rules (kurva distribusi) of each unit")
    )
    p.add_argument("--policy", required=True, metavar="ID_OR_FILE")
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="RESULTS_OR_RECORDS",
        help=_("results of `kinerja eval`, or records (evaluated first); '-' for standard input"),
    )
    p.add_argument(
        "--units", required=True, metavar="UNITS_FILE", help=_("YAML: units with id, name, predikat, members")
    )
    p.add_argument(
        "--raters",
        action="store_true",
        help=_(
            "instead, the rater-bias report: superiors whose ratings stand far above their unit's mean "
            "(needs records, not results)"
        ),
    )
    p.add_argument("--input-format", choices=INPUT_FORMATS)
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.set_defaults(run="review.cmd_distribution")

    p = sub.add_parser(
        "diff", parents=[common], help=_("what changed between two policies, by meaning; with --data, whom it moves")
    )
    p.add_argument("old", metavar="OLD", help=_("policy id or file"))
    p.add_argument("new", metavar="NEW", help=_("policy id or file"))
    p.add_argument(
        "--data",
        metavar="FILE",
        action="append",
        default=[],
        help=_("records to evaluate under both policies (JSON, JSON Lines or CSV)"),
    )
    p.add_argument("--input-format", choices=INPUT_FORMATS)
    p.add_argument(
        "--db", metavar="URL", help=_("instead of --data: the inputs of the evaluations stored in this database")
    )
    p.add_argument("--policy", metavar="ID", help=_("with --db: only evaluations made under this policy id"))
    p.add_argument("--period", metavar="P", help=_("with --db: only evaluations of this period"))
    p.add_argument(
        "--units",
        metavar="UNITS_FILE",
        help=_(
            "with --data: each unit's predikat counts and unit-rule verdicts, old and new "
            "(YAML as for kinerja distribution)"
        ),
    )
    p.set_defaults(run="review.cmd_diff")

    p = sub.add_parser(
        "replay",
        parents=[common],
        help=_("evaluate stored evaluations again under the policy versions they used, and compare"),
    )
    p.add_argument("ids", nargs="*", metavar="EVALUATION_ID")
    p.add_argument("--submission", metavar="ID", help=_("every evaluation of this submission"))
    p.add_argument("--policy", metavar="ID", help=_("only evaluations made under this policy id"))
    p.add_argument("--period", metavar="P", help=_("only evaluations of this period"))
    p.add_argument("--all", action="store_true", help=_("every stored evaluation"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--db", metavar="URL", help=_(DB_HELP))
    p.set_defaults(run="review.cmd_replay")

    p = sub.add_parser(
        "template",
        parents=[common],
        help=_("write a policy's empty data template (.xlsx or .csv) with Indonesian labels"),
    )
    p.add_argument("target", metavar="ID_OR_FILE")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help=_("template format (default xlsx)"))
    p.add_argument(
        "--records", metavar="FILE", help=_("fill the .xlsx template with these records (JSON or JSON Lines)")
    )
    p.add_argument("-o", "--output", metavar="FILE", help=_("write here instead of standard output"))
    p.set_defaults(run="evaluate.cmd_template")

    p = sub.add_parser(
        "render", parents=[common], help=_("write a policy's rulebook in Bahasa Indonesia (Markdown or one HTML file)")
    )
    p.add_argument("target", metavar="ID_OR_FILE")
    p.add_argument("--format", choices=("md", "html"), default="md", help=_("output format (default md)"))
    p.add_argument("-o", "--output", metavar="OUT", help=_("write here instead of standard output"))
    p.add_argument(
        "--previous", metavar="ID_OR_FILE", help=_("an earlier version: the rulebook shows what changed since")
    )
    p.set_defaults(run="policy.cmd_render")

    p = sub.add_parser(
        "schema", parents=[common], help=_("print the JSON Schema of a policy's records (or of policy files)")
    )
    p.add_argument("target", nargs="?", metavar="ID_OR_FILE")
    p.add_argument("--policy-file", action="store_true", help=_("print the schema of policy files instead"))
    p.set_defaults(run="policy.cmd_schema")

    p = sub.add_parser(
        "init",
        parents=[common],
        help=_("write a new regional policy that extends a parent, with the parts a region usually changes"),
    )
    p.add_argument("id", metavar="ID", help=_("the new policy's id (lower case, digits, dashes)"))
    p.add_argument("--extends", required=True, metavar="PARENT", help=_("the parent policy's id"))
    p.add_argument("-o", "--output", metavar="FILE", help=_("the file to write (default: ID.yaml)"))
    p.add_argument("--force", action="store_true", help=_("overwrite the file if it exists"))
    p.set_defaults(run="policy.cmd_init")

    p = sub.add_parser("export", parents=[common], help=_("copy a bundled policy's file out for editing"))
    p.add_argument("id", metavar="ID", help=_("the policy's id"))
    p.add_argument(
        "-o", "--output", metavar="FILE", help=_("the file to write (default: ID.yaml; - for standard output)")
    )
    p.add_argument("--force", action="store_true", help=_("overwrite the file if it exists"))
    p.set_defaults(run="policy.cmd_export")

    p = sub.add_parser("keys", parents=[common], help=_("create, list and revoke the service's API keys"))
    keys = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    k = keys.add_parser("create", parents=[common], help=_("create a key and print it (shown once)"))
    k.add_argument("--role", required=True, choices=("agency", "reviewer", "admin"))
    k.add_argument("--agency", metavar="ID", help=_("the agency an agency key belongs to"))
    k.add_argument("--db", metavar="URL", help=_(DB_HELP))
    k.set_defaults(run="admin.cmd_keys_create")
    k = keys.add_parser("list", parents=[common], help=_("list the keys (never their secrets)"))
    k.add_argument("--db", metavar="URL", help=_(DB_HELP))
    k.set_defaults(run="admin.cmd_keys_list")
    k = keys.add_parser("revoke", parents=[common], help=_("revoke a key: it stops working at once"))
    k.add_argument("key_id", metavar="KEY_ID")
    k.add_argument("--db", metavar="URL", help=_(DB_HELP))
    k.set_defaults(run="admin.cmd_keys_revoke")

    p = sub.add_parser("users", parents=[common], help=_("create, list and disable the people who sign in to the web"))
    users = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    u = users.add_parser(
        "create",
        parents=[common],
        help=_("create a user; the password is read from stdin, or asked twice on a terminal"),
    )
    u.add_argument("username", metavar="USERNAME")
    u.add_argument("--role", required=True, choices=("agency", "reviewer", "admin"))
    u.add_argument("--agency", metavar="ID", help=_("the agency an agency user belongs to"))
    u.add_argument("--db", metavar="URL", help=_(DB_HELP))
    u.set_defaults(run="admin.cmd_users_create")
    u = users.add_parser("list", parents=[common], help=_("list the users (never their passwords)"))
    u.add_argument("--db", metavar="URL", help=_(DB_HELP))
    u.set_defaults(run="admin.cmd_users_list")
    u = users.add_parser("disable", parents=[common], help=_("disable a user: they cannot sign in, their sessions end"))
    u.add_argument("username", metavar="USERNAME")
    u.add_argument("--db", metavar="URL", help=_(DB_HELP))
    u.set_defaults(run="admin.cmd_users_disable")

    p = sub.add_parser("serve", parents=[common], help=_("run the HTTP service (/v1) with a production WSGI server"))
    p.add_argument("--host", default="127.0.0.1", help=_("address to listen on (default 127.0.0.1)"))
    p.add_argument("--port", type=int, default=8000, help=_("port (default 8000; 0 picks a free one)"))
    p.add_argument("--db", metavar="URL", help=_(DB_HELP))
    p.add_argument("--threads", type=int, default=8, help=_("worker threads (default 8)"))
    p.add_argument(
        "--timeout",
        type=int,
        default=30,
        metavar="SECONDS",
        help=_("close a connection idle or stalled this long (default 30)"),
    )
    p.add_argument(
        "--header-timeout",
        type=int,
        default=10,
        metavar="SECONDS",
        help=_("close a connection whose request headers take longer than this (default 10)"),
    )
    p.set_defaults(run="admin.cmd_serve")
    return parser


def _command(run: str) -> Callable[[argparse.Namespace], int]:
    """The function a parser names as `GROUP.FUNCTION` (engine.cli.GROUP), its module imported now."""
    group, name = run.split(".")
    return getattr(importlib.import_module(f"engine.cli.{group}"), name)
