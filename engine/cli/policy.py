"""The policy commands: policies, check, test, render, schema, init, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine.api import check
from engine.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, _err, _load, _out, _targets, _usage
from engine.diagnostics import PolicyError, shown_file
from engine.evaluate.io import encode
from engine.evaluate.records import input_schema
from engine.i18n import _
from engine.policy.document import available, bundled_dir
from engine.policy.policyschema import policy_file_schema
from engine.policy.versions import diagnostics_for, versions_of
from engine.review.authoring import AuthoringError, bundled_text, new_regional_policy, write_new
from engine.review.cases import run_tests
from engine.review.rulebook import render_html, render_markdown


def cmd_policies(args) -> int:
    rows = []
    for policy_id, path in sorted(available().items()):
        policy, diagnostics = check(path)
        errors = sum(1 for d in diagnostics if d.severity.value == "error")
        rows.append(
            {
                "id": policy_id,
                "version": policy.version if policy else "",
                "title": policy.title if policy else "",
                "berlaku_mulai": policy.berlaku_mulai if policy else None,
                "berlaku_sampai": policy.berlaku_sampai if policy else None,
                "extends": policy.chain[1] if policy and len(policy.chain) > 1 else None,
                "file": str(path),
                "errors": errors,
            }
        )
    if args.json:
        _out(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for row in rows:
        period = f"{row['berlaku_mulai'] or '…'} s.d. {row['berlaku_sampai'] or '…'}"
        status = (
            "  [" + _("{count} error(s): run kinerja check {id}", count=row["errors"], id=row["id"]) + "]"
            if row["errors"]
            else ""
        )
        extends = " (" + _("extends {parent}", parent=row["extends"]) + ")" if row["extends"] else ""
        _out(f"{row['id']:<22} {row['version']:<10} {period:<26} {row['title']}{extends}{status}")
    return EXIT_OK


def cmd_check(args) -> int:
    failed = False
    everything = []
    for target in _targets(args.targets):
        _, diagnostics = check(target)
        everything += diagnostics
        failed |= any(d.severity.value == "error" for d in diagnostics)
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
    status = EXIT_OK
    for target in _targets(args.targets):
        loaded = _load(target, say=_out)
        if loaded is None:
            status = EXIT_FAILED
            continue
        report = run_tests(loaded)
        for case in report.failed:
            _out(
                _(
                    "FAIL {policy}: {case} ({file}:{line})",
                    policy=report.policy,
                    case=case.name,
                    file=shown_file(report.file),
                    line=case.line,
                )
            )
            for failure in case.failures:
                _out(f"    {failure}")
        passed = len(report.cases) - len(report.failed)
        reached = len(report.targets) - len(report.unreached)
        _out(
            _(
                "{policy}: {passed} of {cases} cases passed; coverage {reached}/{targets} rows and cells",
                policy=report.policy,
                passed=passed,
                cases=len(report.cases),
                reached=reached,
                targets=len(report.targets),
            )
        )
        for text in report.unreached:
            _out("    " + _("never reached: {target}", target=text))
        if report.failed or not report.cases or (args.require_coverage and report.unreached):
            status = EXIT_FAILED
    return status


def cmd_render(args) -> int:
    """The rulebook runs the policy's own tests to show their coverage; failing cases are shown
    in it, not turned into an exit code (`kinerja test` is for that)."""
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
    if not policy.berlaku_mulai:
        return None
    earlier = [
        v
        for v in versions_of(policy.id)
        if v.hash != policy.hash and v.berlaku_mulai and str(v.berlaku_mulai) < str(policy.berlaku_mulai)
    ]
    if not earlier:
        return None
    return _load(str(max(earlier, key=lambda v: str(v.berlaku_mulai)).path))


def cmd_schema(args) -> int:
    if args.policy_file:
        _out(json.dumps(policy_file_schema(), ensure_ascii=False, indent=2))
        return EXIT_OK
    if not args.target:
        return _usage(_("name a policy: kinerja schema ID (or --policy-file)"))
    loaded = _load(args.target)
    if loaded is None:
        return EXIT_USAGE
    document = json.loads(encode(input_schema(loaded.policy)))
    _out(json.dumps(document, ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_init(args) -> int:
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
    _out(
        _(
            "wrote {path}: a new policy {id} that extends {parent}; check it with: kinerja check {path}",
            path=target,
            id=args.id,
            parent=args.extends,
        )
    )
    return EXIT_OK


def cmd_export(args) -> int:
    source: Path | str
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
    if Path(source).resolve().parent == bundled_dir().resolve():
        source = f"policies/{Path(source).name}"  # the policy's own name, never the installation's path
    _out(
        _(
            "wrote {path}, a copy of {source}; give it an id of its own before you publish it, or extend it "
            "instead (kinerja init NEW --extends {id})",
            path=target,
            source=source,
            id=args.id,
        )
    )
    return EXIT_OK
