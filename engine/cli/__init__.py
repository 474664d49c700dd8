"""The `kinerja` command. Each subcommand parses its arguments, calls the facade, prints.

Exit codes: 0 all good; 1 a check failed, a test failed or some record had errors (the good
records are still written); 2 a usage error or a policy that cannot be loaded.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from engine import __version__

from engine.i18n import LANGUAGES, N_, _, language, using

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
INPUT_FORMATS = ("json", "jsonl", "csv", "xlsx", "parquet", "arrow")


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
            return args.run(args)
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
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help=_("language of messages: id (default) or en; also KINERJA_LANG"))
    # Every command takes --lang too (after its name); given there, it wins over the global one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=_("language of messages (id or en)"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("policies", parents=[common], help=_("list the policies available"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.set_defaults(run=cmd_policies)

    p = sub.add_parser("check", parents=[common], help=_("check policies for mistakes (all available when none is named)"))
    p.add_argument("targets", nargs="*", metavar="TARGET", help=_("policy id or file"))
    p.add_argument("--json", action="store_true", help=_("print diagnostics as JSON"))
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("test", parents=[common], help=_("run the policies' own test cases and report coverage"))
    p.add_argument("targets", nargs="*", metavar="TARGET", help=_("policy id or file"))
    p.add_argument("--require-coverage", action="store_true",
                   help=_("fail unless every table row and matrix cell is reached"))
    p.set_defaults(run=cmd_test)

    p = sub.add_parser("eval", parents=[common], help=_("evaluate records"))
    p.add_argument("--policy", required=True, metavar="ID_OR_FILE")
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help=_("JSON, JSON Lines, CSV or .xlsx file; '-' for standard input"))
    p.add_argument("-o", "--output", metavar="OUT", help=_("write here instead of standard output"))
    p.add_argument("--format", choices=("jsonl", "json", "csv", "xlsx"), default="jsonl",
                   help=_("output format (default jsonl)"))
    p.add_argument("--input-format", choices=INPUT_FORMATS, help=_("input format (default: from the file name)"))
    p.add_argument("--explain", action="store_true", help=_("add an explanation to each result"))
    p.add_argument("--trace", action="store_true", help=_("add the trace to each result"))
    p.add_argument("--period", metavar="P", help=_("the period (2023, 2023-07, 2023-07-15) that chooses the version "
                   "in force, for records without their own `periode` (default: today)"))
    p.add_argument("--outputs-only", action="store_true", help=_("leave out the audit values (only the outputs)"))
    p.add_argument("--explain-engine", action="store_true", help=_("say which path evaluated how many records"))
    p.add_argument("--columns", action="store_true", help=_("evaluate JSON Lines in columns too (Parquet always is)"))
    p.add_argument("--dask", metavar="SCHEDULER", help=_("evaluate a Parquet file on a Dask cluster ('local' starts one)"))
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("explain", parents=[common], help=_("explain, in sentences, how each record's result came about"))
    p.add_argument("--policy", required=True, metavar="ID_OR_FILE")
    p.add_argument("inputs", nargs="*", metavar="INPUT")
    p.add_argument("--input-format", choices=INPUT_FORMATS)
    p.add_argument("--what-if", action="store_true",
                   help=_("also the smallest change of one input that reaches the next better predikat"))
    p.set_defaults(run=cmd_explain)

    p = sub.add_parser("distribution", parents=[common], help=_("check the unit-level rules (kurva distribusi) of each unit"))
    p.add_argument("--policy", required=True, metavar="ID_OR_FILE")
    p.add_argument("inputs", nargs="*", metavar="RESULTS_OR_RECORDS",
                   help=_("results of `kinerja eval`, or records (evaluated first); '-' for standard input"))
    p.add_argument("--units", required=True, metavar="UNITS_FILE", help=_("YAML: units with id, name, predikat, members"))
    p.add_argument("--raters", action="store_true",
                   help=_("instead, the rater-bias report: superiors whose ratings stand far above their unit's mean "
                          "(needs records, not results)"))
    p.add_argument("--input-format", choices=INPUT_FORMATS)
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.set_defaults(run=cmd_distribution)

    p = sub.add_parser("diff", parents=[common], help=_("what changed between two policies, by meaning; with --data, whom it moves"))
    p.add_argument("old", metavar="OLD", help=_("policy id or file"))
    p.add_argument("new", metavar="NEW", help=_("policy id or file"))
    p.add_argument("--data", metavar="FILE", action="append", default=[],
                   help=_("records to evaluate under both policies (JSON, JSON Lines or CSV)"))
    p.add_argument("--input-format", choices=INPUT_FORMATS)
    p.add_argument("--db", metavar="URL", help=_("instead of --data: the inputs of the evaluations stored in this database"))
    p.add_argument("--policy", metavar="ID", help=_("with --db: only evaluations made under this policy id"))
    p.add_argument("--period", metavar="P", help=_("with --db: only evaluations of this period"))
    p.add_argument("--units", metavar="UNITS_FILE",
                   help=_("with --data: each unit's predikat counts and unit-rule verdicts, old and new "
                        "(YAML as for kinerja distribution)"))
    p.set_defaults(run=cmd_diff)

    p = sub.add_parser("replay", parents=[common], help=_("evaluate stored evaluations again under the policy versions they used, and compare"))
    p.add_argument("ids", nargs="*", metavar="EVALUATION_ID")
    p.add_argument("--submission", metavar="ID", help=_("every evaluation of this submission"))
    p.add_argument("--policy", metavar="ID", help=_("only evaluations made under this policy id"))
    p.add_argument("--period", metavar="P", help=_("only evaluations of this period"))
    p.add_argument("--all", action="store_true", help=_("every stored evaluation"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--db", metavar="URL", help=_(DB_HELP))
    p.set_defaults(run=cmd_replay)

    p = sub.add_parser("template", parents=[common],
                       help=_("write a policy's empty data template (.xlsx or .csv) with Indonesian labels"))
    p.add_argument("target", metavar="ID_OR_FILE")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help=_("template format (default xlsx)"))
    p.add_argument("--records", metavar="FILE", help=_("fill the .xlsx template with these records (JSON or JSON Lines)"))
    p.add_argument("-o", "--output", metavar="FILE", help=_("write here instead of standard output"))
    p.set_defaults(run=cmd_template)

    p = sub.add_parser("render", parents=[common], help=_("write a policy's rulebook in Bahasa Indonesia (Markdown or one HTML file)"))
    p.add_argument("target", metavar="ID_OR_FILE")
    p.add_argument("--format", choices=("md", "html"), default="md", help=_("output format (default md)"))
    p.add_argument("-o", "--output", metavar="OUT", help=_("write here instead of standard output"))
    p.add_argument("--previous", metavar="ID_OR_FILE", help=_("an earlier version: the rulebook shows what changed since"))
    p.set_defaults(run=cmd_render)

    p = sub.add_parser("schema", parents=[common], help=_("print the JSON Schema of a policy's records (or of policy files)"))
    p.add_argument("target", nargs="?", metavar="ID_OR_FILE")
    p.add_argument("--policy-file", action="store_true", help=_("print the schema of policy files instead"))
    p.set_defaults(run=cmd_schema)

    p = sub.add_parser("init", parents=[common],
                       help=_("write a new regional policy that extends a parent, with the parts a region usually changes"))
    p.add_argument("id", metavar="ID", help=_("the new policy's id (lower case, digits, dashes)"))
    p.add_argument("--extends", required=True, metavar="PARENT", help=_("the parent policy's id"))
    p.add_argument("-o", "--output", metavar="FILE", help=_("the file to write (default: ID.yaml)"))
    p.add_argument("--force", action="store_true", help=_("overwrite the file if it exists"))
    p.set_defaults(run=cmd_init)

    p = sub.add_parser("export", parents=[common], help=_("copy a bundled policy's file out for editing"))
    p.add_argument("id", metavar="ID", help=_("the policy's id"))
    p.add_argument("-o", "--output", metavar="FILE", help=_("the file to write (default: ID.yaml; - for standard output)"))
    p.add_argument("--force", action="store_true", help=_("overwrite the file if it exists"))
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("keys", parents=[common], help=_("create, list and revoke the service's API keys"))
    keys = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    k = keys.add_parser("create", parents=[common], help=_("create a key and print it (shown once)"))
    k.add_argument("--role", required=True, choices=("agency", "reviewer", "admin"))
    k.add_argument("--agency", metavar="ID", help=_("the agency an agency key belongs to"))
    k.add_argument("--db", metavar="URL", help=_(DB_HELP))
    k.set_defaults(run=cmd_keys_create)
    k = keys.add_parser("list", parents=[common], help=_("list the keys (never their secrets)"))
    k.add_argument("--db", metavar="URL", help=_(DB_HELP))
    k.set_defaults(run=cmd_keys_list)
    k = keys.add_parser("revoke", parents=[common], help=_("revoke a key: it stops working at once"))
    k.add_argument("key_id", metavar="KEY_ID")
    k.add_argument("--db", metavar="URL", help=_(DB_HELP))
    k.set_defaults(run=cmd_keys_revoke)

    p = sub.add_parser("users", parents=[common], help=_("create, list and disable the people who sign in to the web"))
    users = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    u = users.add_parser("create", parents=[common],
                         help=_("create a user; the password is read from stdin, or asked twice on a terminal"))
    u.add_argument("username", metavar="USERNAME")
    u.add_argument("--role", required=True, choices=("agency", "reviewer", "admin"))
    u.add_argument("--agency", metavar="ID", help=_("the agency an agency user belongs to"))
    u.add_argument("--db", metavar="URL", help=_(DB_HELP))
    u.set_defaults(run=cmd_users_create)
    u = users.add_parser("list", parents=[common], help=_("list the users (never their passwords)"))
    u.add_argument("--db", metavar="URL", help=_(DB_HELP))
    u.set_defaults(run=cmd_users_list)
    u = users.add_parser("disable", parents=[common], help=_("disable a user: they cannot sign in, their sessions end"))
    u.add_argument("username", metavar="USERNAME")
    u.add_argument("--db", metavar="URL", help=_(DB_HELP))
    u.set_defaults(run=cmd_users_disable)

    p = sub.add_parser("serve", parents=[common], help=_("run the HTTP service (/v1) with a production WSGI server"))
    p.add_argument("--host", default="127.0.0.1", help=_("address to listen on (default 127.0.0.1)"))
    p.add_argument("--port", type=int, default=8000, help=_("port (default 8000; 0 picks a free one)"))
    p.add_argument("--db", metavar="URL", help=_(DB_HELP))
    p.add_argument("--threads", type=int, default=8, help=_("worker threads (default 8)"))
    p.add_argument("--timeout", type=int, default=30, metavar="SECONDS",
                   help=_("close a connection idle or stalled this long (default 30)"))
    p.add_argument("--header-timeout", type=int, default=10, metavar="SECONDS",
                   help=_("close a connection whose request headers take longer than this (default 10)"))
    p.set_defaults(run=cmd_serve)
    return parser


DB_HELP = N_("database URL (default: $KINERJA_DB, else sqlite:///kinerja.sqlite)")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _load(target: str, say=None):
    """The compiled policy, or None after printing its errors (to stderr unless `say` is given:
    `kinerja test` reports on stdout, where its other results go)."""
    from engine.api import load
    from engine.diagnostics import PolicyError
    from engine.policy.versions import SEPARATOR, choose
    say = say or _err
    try:
        return load(choose(target) if SEPARATOR in target else target)
    except PolicyError as error:
        say("kinerja: " + _("policy {target} has errors:", target=target))
        for diagnostic in error.diagnostics:
            say(diagnostic.render())
        return None


def _chooser(target: str, period: str | None):
    """The versions of a policy to evaluate records with (engine.policy.versions.Chooser), or None after
    printing why none can be chosen."""
    from engine.diagnostics import PolicyError
    from engine.policy.versions import Chooser
    try:
        return Chooser(target, period)
    except PolicyError as error:
        choosing = all(d.code.startswith(("version.", "period.")) for d in error.diagnostics)
        _err("kinerja: " + (_("cannot choose a version of {target}:", target=target) if choosing
                            else _("policy {target} has errors:", target=target)))
        for diagnostic in error.diagnostics:
            _err(diagnostic.render())
        return None


def _targets(names: list[str]) -> list[str]:
    from engine.policy.document import available
    return names or sorted(available())


def cmd_policies(args) -> int:
    from engine.api import check
    from engine.policy.document import available
    rows = []
    for policy_id, path in sorted(available().items()):
        policy, diagnostics = check(path)
        errors = sum(1 for d in diagnostics if d.severity.value == "error")
        rows.append({"id": policy_id, "version": policy.version if policy else "", "title": policy.title if policy else "",
                     "berlaku_mulai": policy.berlaku_mulai if policy else None,
                     "berlaku_sampai": policy.berlaku_sampai if policy else None,
                     "extends": policy.chain[1] if policy and len(policy.chain) > 1 else None,
                     "file": str(path), "errors": errors})
    if args.json:
        _out(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for row in rows:
        period = f"{row['berlaku_mulai'] or '…'} s.d. {row['berlaku_sampai'] or '…'}"
        status = "  [" + _("{count} error(s): run kinerja check {id}", count=row['errors'], id=row['id']) + "]" \
            if row["errors"] else ""
        extends = " (" + _("extends {parent}", parent=row['extends']) + ")" if row["extends"] else ""
        _out(f"{row['id']:<22} {row['version']:<10} {period:<26} {row['title']}{extends}{status}")
    return EXIT_OK


def cmd_check(args) -> int:
    from engine.api import check
    failed = False
    everything = []
    for target in _targets(args.targets):
        _, diagnostics = check(target)
        everything += diagnostics
        failed |= any(d.severity.value == "error" for d in diagnostics)
    from engine.policy.versions import diagnostics_for
    versions = diagnostics_for(args.targets)  # overlaps and gaps between the versions of one id
    everything += versions
    failed |= any(d.severity.value == "error" for d in versions)
    if args.json:
        _out(json.dumps([d.as_json() for d in everything], ensure_ascii=False, indent=2))
    else:
        for diagnostic in everything:
            _out(diagnostic.render())
    return EXIT_FAILED if failed else EXIT_OK


def cmd_test(args) -> int:
    from engine.diagnostics import shown_file
    from engine.review.cases import run_tests
    status = EXIT_OK
    for target in _targets(args.targets):
        loaded = _load(target, say=_out)
        if loaded is None:
            status = EXIT_FAILED
            continue
        report = run_tests(loaded)
        for case in report.failed:
            _out(_("FAIL {policy}: {case} ({file}:{line})", policy=report.policy, case=case.name,
                   file=shown_file(report.file), line=case.line))
            for failure in case.failures:
                _out(f"    {failure}")
        passed = len(report.cases) - len(report.failed)
        reached = len(report.targets) - len(report.unreached)
        _out(_("{policy}: {passed} of {cases} cases passed; coverage {reached}/{targets} rows and cells",
               policy=report.policy, passed=passed, cases=len(report.cases), reached=reached,
               targets=len(report.targets)))
        for text in report.unreached:
            _out("    " + _("never reached: {target}", target=text))
        if report.failed or not report.cases or (args.require_coverage and report.unreached):
            status = EXIT_FAILED
    return status


def _open_inputs(names: list[str]):
    for name in names or ["-"]:
        if name == "-":
            yield "-", sys.stdin.buffer
        else:
            try:
                handle = open(name, "rb")
            except OSError as error:
                raise SystemExit(_usage(_("cannot read {file}: {reason}", file=name, reason=error.strerror))) from None
            with handle:
                yield name, handle


def _usage(message: str) -> int:
    _err(f"kinerja: {message}")
    return EXIT_USAGE


def _records(args, loaded):
    from engine.evaluate.io import detect_format
    for name, stream in _open_inputs(args.inputs):
        fmt = args.input_format
        if fmt is None:
            head = stream.peek(64) if hasattr(stream, "peek") else b""
            fmt = detect_format(name, head)
        yield from _read(name, stream, fmt, loaded.policy)


def _read(name: str, stream, fmt: str, policy):
    """Records of one input: a workbook through engine.evaluate.sheets, anything else through engine.evaluate.io."""
    if fmt != "xlsx":
        from engine.evaluate.io import read_records
        return read_records(stream, fmt, policy)
    from engine.evaluate.sheets import MAX_UPLOAD_BYTES, incoming
    return incoming(policy, name, stream.read(MAX_UPLOAD_BYTES + 1))


def _writer(target, fmt: str, output_names: list[str]):
    if fmt == "xlsx":
        from engine.evaluate.sheets import ResultBook
        return ResultBook(target, output_names)
    from engine.evaluate.io import ResultWriter
    return ResultWriter(target, fmt, output_names)


def cmd_template(args) -> int:
    from engine.i18n import _
    from engine.evaluate.sheets import template_csv, template_xlsx
    loaded = _load(args.target)
    if loaded is None:
        return EXIT_USAGE
    records = None
    if args.records:
        if args.format != "xlsx":
            return _usage(_("--records fills the .xlsx template; give --format xlsx"))
        records = []
        for incoming in _records(argparse.Namespace(inputs=[args.records], input_format=None), loaded):
            if incoming.error is not None:
                return _usage(f"{args.records}: {incoming.error['message']}")
            records.append(incoming.record)
    try:
        data = template_xlsx(loaded, records) if args.format == "xlsx" else template_csv(loaded)
    except ValueError as error:
        return _usage(str(error))
    if args.output:
        Path(args.output).write_bytes(data)
        _err(_("kinerja: template of {policy} written to {file}", policy=loaded.policy.id, file=args.output))
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def cmd_eval(args) -> int:
    chooser = _chooser(args.policy, args.period)
    if chooser is None:
        return EXIT_USAGE
    if args.dask or args.input_format in ("parquet", "arrow") or \
            any(name.lower().endswith((".parquet", ".pq", ".arrow", ".feather", ".ipc")) for name in args.inputs):
        from engine.evaluate.columns.cli import eval_columnar
        return eval_columnar(args, chooser)
    target = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        if args.explain or args.trace:
            bad = _eval_traced(args, chooser, target)
        else:
            bad = _eval_batch(args, chooser, target)
    finally:
        if args.output:
            target.close()
    if bad:
        _err("kinerja: " + _("{count} record(s) had errors; the others were evaluated", count=bad))
    return EXIT_FAILED if bad else EXIT_OK


def _eval_batch(args, chooser, target) -> int:
    """The batch path (engine.evaluate.batch): JSON Lines stream straight through, on every core for a
    large file; JSON and CSV go record by record through the same fast kernel."""
    from engine.evaluate import batch
    from engine.evaluate.io import detect_format, encode
    loaded = chooser.default
    sizes = [os.path.getsize(name) if name != "-" and os.path.isfile(name) else None for name in args.inputs or ["-"]]
    total = None if None in sizes else sum(sizes)
    progress = batch.Progress(total)
    bad = 0
    writer = None if args.format == "jsonl" else _writer(target, args.format, list(loaded.policy.outputs))
    evaluator = batch.LineEvaluator(chooser.for_record, loaded)
    if args.columns or args.outputs_only or args.explain_engine:  # NumPy is imported only then
        from engine.evaluate.columns.lines import ChunkEvaluator
        evaluator = ChunkEvaluator(chooser.for_record, loaded, with_values=not args.outputs_only, use_columns=args.columns)
    try:
        for name, stream in _open_inputs(args.inputs):
            fmt = args.input_format
            if fmt is None:
                fmt = detect_format(name, stream.peek(64) if hasattr(stream, "peek") else b"")
            if fmt == "jsonl" and writer is None:
                size = os.path.getsize(name) if name != "-" and os.path.isfile(name) else None
                workers = 1 if args.explain_engine else batch.default_workers(size)
                if workers > 1:  # a large file: each core reads its own part of it
                    target.flush()
                    _, failed = batch.run_file(name, target, evaluator, workers, progress)
                else:
                    _, failed = batch.run_jsonl([stream], target, evaluator, progress)
                bad += failed
                continue
            records = _read(name, stream, fmt, loaded.policy)
            for result, failed in batch.results_of(records, chooser.for_record, loaded):
                bad += failed
                if args.outputs_only:
                    result.pop("values", None)
                if writer is None:
                    target.write(encode(result) + b"\n")
                else:
                    writer.write(result)
                progress.advance(1, 0)
    finally:
        if writer is not None:
            writer.close()
        else:
            target.flush()
        progress.close()
    if args.explain_engine:
        _err(evaluator.explain())
    return bad


def _eval_traced(args, chooser, target) -> int:
    """Record by record through the exact evaluator, which keeps the trace."""
    from engine.api import evaluate
    from engine.review.explain import explain, trace_json
    loaded = chooser.default
    writer = _writer(target, args.format, list(loaded.policy.outputs))
    bad = 0
    try:
        for incoming in _records(args, loaded):
            if incoming.error is not None:
                result = {"id": None, "policy": loaded.ref, "line": incoming.line, "errors": [incoming.error]}
            else:
                result = evaluate(chooser.for_record(incoming.record), incoming.record, trace=True)
                if "errors" in result:
                    result["line"] = incoming.line
                else:
                    trace = result.pop("trace")
                    if args.trace:
                        result["trace"] = trace_json(trace)
                    if args.explain:
                        result["explanation"] = explain(trace, args.lang)
            bad += "errors" in result
            writer.write(result)
    finally:
        writer.close()
    return bad


def cmd_explain(args) -> int:
    from engine.api import evaluate
    from engine.review.explain import explain
    from engine.language.printer import value_text
    from engine.review.whatif import predikat_output, what_if
    from engine.review.whatif import render as render_what_if
    loaded = _load(args.policy)
    if loaded is None:
        return EXIT_USAGE
    if args.what_if and predikat_output(loaded.policy) is None:
        return _usage(_("policy {id} has no output with `labels` (a predikat) for --what-if", id=loaded.policy.id))
    en = args.lang == "en"
    bad = 0
    for incoming in _records(args, loaded):
        label = (incoming.record or {}).get("id") if isinstance(incoming.record, dict) else None
        _out(_("Record {label} ({policy}):", label=label if label is not None else incoming.line, policy=loaded.policy.id))
        if incoming.error is not None:
            bad += 1
            _out(f"  {incoming.error['message']}")
            continue
        result = evaluate(loaded, incoming.record, trace=True)
        if "errors" in result:
            bad += 1
            for error in result["errors"]:
                _out(f"  {error['path'] or '/'}: {error['message']}")
            continue
        for number, sentence in enumerate(explain(result["trace"], args.lang), start=1):
            _out(f"  {number}. {sentence}")
        shown = ", ".join(f"{k} = {value_text(v, '.' if en else ',') if not isinstance(v, str) else v}"
                          for k, v in result["outputs"].items())
        _out("  " + _("Result: {outputs}", outputs=shown))
        report = what_if(loaded, incoming.record) if args.what_if else None
        for line in render_what_if(report, args.lang) if report is not None else []:
            _out(f"  {line}")
        _out()
    return EXIT_FAILED if bad else EXIT_OK


def cmd_distribution(args) -> int:
    from engine.api import evaluate
    from engine.diagnostics import Diagnostics
    from engine.review.distribution import assess, read_units, render, report_json
    loaded = _load(args.policy)
    if loaded is None:
        return EXIT_USAGE
    if args.raters:
        return _rater_report(args, loaded)
    rules = list(loaded.policy.unit_rules.values())
    if not rules:
        return _usage(_("policy {id} states no unit rules", id=loaded.policy.id))
    problems = Diagnostics()
    units = read_units(Path(args.units), problems)
    if problems:
        for diagnostic in problems.sorted():
            _err(diagnostic.render())
        return EXIT_USAGE
    outputs: dict[str, dict | None] = {}
    for incoming in _records(args, loaded):
        item = incoming.record
        if not isinstance(item, dict) or item.get("id") is None:
            continue  # unreadable, or not attributable to an employee
        if "outputs" in item or "errors" in item:  # already a result
            result = item
        else:
            result = evaluate(loaded, item)
        outputs[str(item["id"])] = result.get("outputs")
    known = {member for unit in units for member in unit.members}
    strangers = sorted(set(outputs) - known)
    reports = [report for rule in rules for report in assess(rule, units, outputs)]
    if args.json:
        _out(json.dumps({"reports": [report_json(r) for r in reports], "not_in_any_unit": strangers},
                        ensure_ascii=False, indent=2))
    else:
        labels = list(loaded.policy.outputs[rules[0].counts].labels)
        _out(render(reports, labels, args.lang))
        if strangers:
            _out(_("{count} employees in no unit: {ids}", count=len(strangers), ids=", ".join(strangers[:10]))
                 + (" …" if len(strangers) > 10 else ""))
    return EXIT_FAILED if any(r.failed for r in reports) else EXIT_OK


def _rater_report(args, loaded) -> int:
    """`kinerja distribution --raters`: exit 1 when a superior stands far above the unit's mean."""
    from engine.api import evaluate
    from engine.diagnostics import Diagnostics
    from engine.review.distribution import read_units
    from engine.i18n import _, using
    from engine.review.raters import assess, rating_of, read_rule, render, report_json
    with using(args.lang):
        rule = read_rule(loaded.policy)
        if rule is None:
            return _usage(_("policy {id} states no rater rule (bias_penilai)", id=loaded.policy.id))
        problems = Diagnostics()
        units = read_units(Path(args.units), problems)
        if problems:
            for diagnostic in problems.sorted():
                _err(diagnostic.render())
            return EXIT_USAGE
        ratings = {}
        for incoming in _records(args, loaded):
            item = incoming.record
            if not isinstance(item, dict) or item.get("id") is None:
                continue
            if "outputs" in item or "errors" in item:
                return _usage(_("--raters needs the records themselves (the raters are inputs), not results"))
            result = evaluate(loaded, item)
            if "values" in result:
                ratings[str(item["id"])] = rating_of(rule, item, result["values"])
        reports = assess(rule, units, ratings)
        if args.json:
            _out(json.dumps({"reports": [report_json(r) for r in reports]}, ensure_ascii=False, indent=2))
        else:
            _out(render(reports, rule))
    return EXIT_FAILED if any(s.far_above for r in reports for s in r.superiors) else EXIT_OK


def cmd_diff(args) -> int:
    """Exit 0 when the policies mean the same, 1 when they differ (as diff(1) does)."""
    from engine.review.diff import compare, impact, render_impact, render_units
    if args.units and not args.data:
        return _usage(_("--units needs --data FILE: the records whose units are compared"))
    if args.data and args.db:
        return _usage(_("the records come from --data FILE or from --db URL, not both"))
    if (args.policy or args.period) and not args.db:
        return _usage(_("--policy and --period select stored evaluations: give --db URL too"))
    old, new = _load(args.old), _load(args.new)
    if old is None or new is None:
        return EXIT_USAGE
    units = None
    if args.units:
        from engine.diagnostics import Diagnostics
        from engine.review.distribution import read_units
        problems = Diagnostics()
        units = read_units(Path(args.units), problems)
        if problems:
            for diagnostic in problems.sorted():
                _err(diagnostic.render())
            return EXIT_USAGE
    changes = compare(old.policy.data, new.policy.data)
    counted = _("1 difference") if len(changes) == 1 else _("{count} differences", count=len(changes))
    _out(f"{old.policy.id} {old.policy.version} ({old.policy.hash[:19]}) -> "
         f"{new.policy.id} {new.policy.version} ({new.policy.hash[:19]}): {counted}")
    for change in changes:
        _out(change.render())
    if args.data:
        args.inputs = args.data
        records = [incoming.record for incoming in _records(args, old) if incoming.error is None]
        result = impact(old, new, records, units)
    elif args.db:
        from engine.service import stored_impact
        store = _open_store(args.db)
        if store is None:
            return EXIT_USAGE
        try:
            result = stored_impact(store, old, new, args.policy, args.period)
        finally:
            store.dispose()
    if args.data or args.db:
        labels = list(old.policy.outputs[result.label_output].labels) if result.label_output else []
        for line in render_impact(result, labels) + render_units(result, labels):
            _out(line)
    return EXIT_FAILED if changes else EXIT_OK


def cmd_render(args) -> int:
    """The rulebook runs the policy's own tests to show their coverage; failing cases are shown
    in it, not turned into an exit code (`kinerja test` is for that)."""
    from engine.review.rulebook import render_html, render_markdown
    from engine.review.cases import run_tests
    loaded = _load(args.target)
    previous = _load(args.previous) if args.previous else None
    if loaded is None or (args.previous and previous is None):
        return EXIT_USAGE
    if previous is None:
        previous = _previous_version(loaded.policy)
    render = render_html if args.format == "html" else render_markdown
    text = render(loaded.policy, run_tests(loaded), previous.policy if previous else None)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as error:
        return _usage(_("cannot write {file}: {reason}", file=args.output, reason=error.strerror))
    return EXIT_OK


def _previous_version(policy):
    """The version of the same id in force just before this one (engine.policy.versions), if any: the
    rulebook's history shows what changed since it."""
    from engine.policy.versions import versions_of
    if not policy.berlaku_mulai:
        return None
    earlier = [v for v in versions_of(policy.id) if v.hash != policy.hash and v.berlaku_mulai
               and str(v.berlaku_mulai) < str(policy.berlaku_mulai)]
    if not earlier:
        return None
    return _load(str(max(earlier, key=lambda v: str(v.berlaku_mulai)).path))


def cmd_schema(args) -> int:
    if args.policy_file:
        from engine.policy.policyschema import policy_file_schema
        _out(json.dumps(policy_file_schema(), ensure_ascii=False, indent=2))
        return EXIT_OK
    if not args.target:
        return _usage(_("name a policy: kinerja schema ID (or --policy-file)"))
    loaded = _load(args.target)
    if loaded is None:
        return EXIT_USAGE
    from engine.evaluate.io import encode
    from engine.evaluate.records import input_schema
    document = json.loads(encode(input_schema(loaded.policy)))
    _out(json.dumps(document, ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_init(args) -> int:
    from engine.review.authoring import AuthoringError, new_regional_policy, write_new
    from engine.diagnostics import PolicyError
    from engine.i18n import _
    target = Path(args.output or f"{args.id}.yaml")
    try:
        text = new_regional_policy(args.id, args.extends)
        write_new(target, text.encode("utf-8"), args.force)
    except AuthoringError as error:
        return _usage(str(error))
    except PolicyError as error:
        _err(_("kinerja: the parent policy {parent} cannot be used:", parent=args.extends))
        for d in error.diagnostics:
            _err(d.render())
        return EXIT_USAGE
    _out(_("wrote {path}: a new policy {id} that extends {parent}; check it with: kinerja check {path}",
           path=target, id=args.id, parent=args.extends))
    return EXIT_OK


def cmd_export(args) -> int:
    from engine.review.authoring import AuthoringError, bundled_text, write_new
    from engine.diagnostics import PolicyError
    from engine.i18n import _
    try:
        source, content = bundled_text(args.id)
    except PolicyError as error:
        for d in error.diagnostics:
            _err(d.render())
        return EXIT_USAGE
    if args.output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        return EXIT_OK
    target = Path(args.output or f"{args.id}.yaml")
    try:
        write_new(target, content, args.force)
    except AuthoringError as error:
        return _usage(str(error))
    from engine.policy.document import bundled_dir
    if Path(source).resolve().parent == bundled_dir().resolve():
        source = f"policies/{Path(source).name}"  # the policy's own name, never the installation's path
    _out(_("wrote {path}, a copy of {source}; give it an id of its own before you publish it, or extend it "
           "instead (kinerja init NEW --extends {id})", path=target, source=source, id=args.id))
    return EXIT_OK


def _open_store(db: str | None):
    """The store at --db (migrated), or None after saying why it cannot be opened."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from engine.service.store import database_url, open_store
    url = database_url(db)
    try:
        return open_store(url)
    except (SQLAlchemyError, ArgumentError, OSError) as error:
        _err("kinerja: " + _("cannot open the database {url}: {reason}", url=_shown_url(url),
                             reason=str(error).splitlines()[0]))
        return None


def _on_store(db: str | None, call):
    """(call(store), None) on the store at --db, disposed after; (None, exit code) when the store
    cannot be opened or the service refuses (its message said as a usage error)."""
    from engine.service import ServiceError
    store = _open_store(db)
    if store is None:
        return None, EXIT_USAGE
    try:
        return call(store), None
    except ServiceError as error:
        return None, _usage(error.message)
    finally:
        store.dispose()


def _shown_url(url: str) -> str:
    """A database URL fit to print: any password is masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL at all: shown as given, no password to find in it
        return url


def _when(text: str | None) -> str:
    """A stored timestamp as UTC to the second."""
    from datetime import datetime, timezone
    if not text:
        return "-"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def cmd_keys_create(args) -> int:
    from engine.service import create_key
    created, failed = _on_store(args.db, lambda store: create_key(store, args.role, args.agency))
    if failed is not None:
        return failed
    key, secret = created
    if key.agency:
        _out(_("created {role} key {id} for agency {agency}: {secret}", role=key.role, id=key.id, agency=key.agency,
               secret=secret))
    else:
        _out(_("created {role} key {id}: {secret}", role=key.role, id=key.id, secret=secret))
    return EXIT_OK


def cmd_keys_list(args) -> int:
    from engine.service import list_keys
    keys, failed = _on_store(args.db, list_keys)
    if failed is not None:
        return failed
    rows = [("id", "role", "agency", "created", "revoked")]
    rows += [(k["id"], k["role"], k["agency"] or "-", _when(k["created_at"]), _when(k["revoked_at"])) for k in keys]
    _print_table(rows)
    return EXIT_OK


def _print_table(rows: list[tuple[str, ...]]) -> None:
    """Rows in aligned columns, the last column left ragged."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        _out(" ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " " + row[-1])


def cmd_keys_revoke(args) -> int:
    from engine.service import revoke_key
    _none, failed = _on_store(args.db, lambda store: revoke_key(store, args.key_id))
    if failed is not None:
        return failed
    _out(_("revoked key {id}", id=args.key_id))
    return EXIT_OK


def _read_password() -> str | None:
    """The new password: the first line of stdin when it is not a terminal (for scripts), else asked
    twice without echo; None after saying why when the two differ."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_("Password: "))
    if getpass.getpass(_("Password again: ")) != first:
        _err(_("kinerja: the two passwords differ; nothing was created"))
        return None
    return first


def cmd_users_create(args) -> int:
    from engine.service.accounts import create_user
    password = _read_password()
    if password is None:
        return EXIT_USAGE
    account, failed = _on_store(args.db, lambda store: create_user(store, args.username, password, args.role,
                                                                   args.agency))
    if failed is not None:
        return failed
    owner = _(" for agency {agency}", agency=account.agency) if account.agency else ""
    _out(_("created {role} user {name}{owner}", role=account.role, name=account.username, owner=owner))
    return EXIT_OK


def cmd_users_list(args) -> int:
    from engine.service.accounts import list_users
    users, failed = _on_store(args.db, list_users)
    if failed is not None:
        return failed
    rows = [(_("username"), _("role"), _("agency"), _("created"), _("disabled"))]
    rows += [(u.username, u.role, u.agency or "-", _when(u.created_at), _when(u.disabled_at)) for u in users]
    _print_table(rows)
    return EXIT_OK


def cmd_users_disable(args) -> int:
    from engine.service.accounts import disable_user
    _none, failed = _on_store(args.db, lambda store: disable_user(store, args.username))
    if failed is not None:
        return failed
    _out(_("disabled user {name}", name=args.username))
    return EXIT_OK


def cmd_replay(args) -> int:
    """Exit 0 when every evaluation replays identically, 1 when any differs."""
    from engine.service import ServiceError, replay_evaluations
    selected = bool(args.ids or args.submission or args.policy or args.period)
    if args.all == selected:
        return _usage(_("name what to replay: EVALUATION_ID ..., --submission, --policy or --period; "
                        "or --all (alone) for every stored evaluation"))
    store = _open_store(args.db)
    if store is None:
        return EXIT_USAGE
    try:
        reports = replay_evaluations(store, args.ids, args.submission, args.policy, args.period)
    except ServiceError as error:
        return _usage(error.message)
    finally:
        store.dispose()
    differ = [report for report in reports if not report.same]
    if selected and not reports:
        return _usage(_("no stored evaluation matches {selection}", selection=" ".join(
            f"--{name} {value}" for name, value in (("policy", args.policy), ("period", args.period)) if value)))
    if args.json:
        _out(_exact_json({"replayed": len(reports), "identical": len(reports) - len(differ), "differ": len(differ),
                          "evaluations": [r.as_json() for r in reports]}))
    else:
        for report in differ:
            _out(_("evaluation {id} ({policy} {hash}) differs:", id=report.evaluation_id, policy=report.policy_id,
                   hash=report.policy_hash[:19]))
            for difference in report.differences:
                _out(f"  {difference.render()}")
        replayed = (_("1 evaluation replayed") if len(reports) == 1
                    else _("{count} evaluations replayed", count=len(reports)))
        differing = _("1 differs") if len(differ) == 1 else _("{count} differ", count=len(differ))
        _out(f"{replayed}, " + _("{count} identical", count=len(reports) - len(differ)) + f", {differing}")
    return EXIT_FAILED if differ else EXIT_OK


def _exact_json(value) -> str:
    """Indented JSON whose numbers keep their exact decimal text (json.dumps would go through floats)."""
    import msgspec

    from engine.evaluate.io import encode
    return msgspec.json.format(encode(value), indent=2).decode("utf-8")


def cmd_serve(args) -> int:
    return serve(args.db, host=args.host, port=args.port, threads=args.threads, timeout=args.timeout,
                 header_timeout=args.header_timeout)


def serve(db: str | None = None, host: str = "127.0.0.1", port: int = 8000, threads: int = 8,
          timeout: int = 30, header_timeout: int = 10) -> int:
    """Run the service with waitress until interrupted; on a fresh database, create an admin key first.

    Waitress reads each request whole, and writes each response, in its own I/O loop, so a slow
    client occupies a connection, never a worker thread; a connection idle or stalled for
    `timeout` seconds is closed, and a body above the app's MAX_CONTENT_LENGTH is refused (by the
    app as problem+json, or unread by waitress when it is more than twice that). A client that
    trickles its headers is closed after `header_timeout` seconds (engine.service.serving).
    """
    import server

    from engine.service import serving

    from engine.service import create_key, has_keys
    from engine.service.store import database_url
    if threads < 1 or timeout < 1 or header_timeout < 1:
        return _usage(_("--threads, --timeout and --header-timeout must be at least 1"))
    url = database_url(db)
    store = _open_store(url)  # applies the migrations before the first request
    if store is None:
        return EXIT_USAGE
    try:
        app = server.create_app({"DATABASE_URL": url})
        # Bodies up to twice the app's limit reach the app, which refuses them as problem+json;
        # larger ones are refused by waitress before they are read.
        limit = 2 * (app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY)
        try:
            listening = serving.create_server(app, host, port, threads, timeout, header_timeout, limit)
        except OSError as error:
            return _usage(_("cannot listen on {address}: {reason}", address=f"{host}:{port}",
                            reason=error.strerror or error))
        if not has_keys(store):  # only once the port is ours, so the key is not shown for nothing
            _key, secret = create_key(store, "admin", None)
            _out(_("admin key (shown once): {secret}", secret=secret))
    finally:
        store.dispose()
    bound_host = getattr(listening, "effective_host", host)
    bound_port = getattr(listening, "effective_port", port)
    shown_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    _out(_("Kinerja serving on {url} (database: {database})", url=f"http://{shown_host}:{bound_port}/v1",
           database=_shown_url(url)))
    _out(_("Kinerja web for people on {url} (sign in at /masuk)", url=f"http://{shown_host}:{bound_port}/"))
    sys.stdout.flush()
    stopping = _stop_on_sigterm()
    try:
        listening.run()  # returns on Ctrl-C or SIGTERM
    finally:
        listening.close()
        stopping()
    return EXIT_OK


def _stop_on_sigterm():
    """Make SIGTERM stop the server like Ctrl-C does; returns what undoes it."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def stop(_signal, _frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    return lambda: signal.signal(signal.SIGTERM, previous)


#: Largest request body when the app states no MAX_CONTENT_LENGTH.
MAX_BODY = 10 * 1024 * 1024

