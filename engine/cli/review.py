"""The review commands: distribution (unit rules, or --raters), diff (by meaning; with --data or
--db, whom a change moves) and replay (stored evaluations under the versions they used).

engine.service (SQLAlchemy) is imported inside `diff --db` and `replay` only: it is heavy and
the other commands here never open a database."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from engine.api import evaluate
from engine.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, _err, _load, _open_store, _out, _records, _usage
from engine.diagnostics import Diagnostics
from engine.evaluate.io import encode
from engine.i18n import _, using
from engine.review import distribution, raters
from engine.review.diff import compare, impact, render_impact, render_units


def cmd_distribution(args) -> int:
    loaded = _load(args.policy)
    if loaded is None:
        return EXIT_USAGE
    if args.raters:
        return _rater_report(args, loaded)
    rules = list(loaded.policy.unit_rules.values())
    if not rules:
        return _usage(_("policy {id} states no unit rules", id=loaded.policy.id))
    problems = Diagnostics()
    units = distribution.read_units(Path(args.units), problems)
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
    reports = [report for rule in rules for report in distribution.assess(rule, units, outputs)]
    if args.json:
        _out(
            json.dumps(
                {"reports": [distribution.report_json(r) for r in reports], "not_in_any_unit": strangers},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        labels = list(loaded.policy.outputs[rules[0].counts].labels)
        _out(distribution.render(reports, labels, args.lang))
        if strangers:
            _out(
                _("{count} employees in no unit: {ids}", count=len(strangers), ids=", ".join(strangers[:10]))
                + (" …" if len(strangers) > 10 else "")
            )
    return EXIT_FAILED if any(r.failed for r in reports) else EXIT_OK


def _rater_report(args, loaded) -> int:
    """`kinerja distribution --raters`: exit 1 when a superior stands far above the unit's mean."""
    with using(args.lang):
        rule = raters.read_rule(loaded.policy)
        if rule is None:
            return _usage(_("policy {id} states no rater rule (bias_penilai)", id=loaded.policy.id))
        problems = Diagnostics()
        units = distribution.read_units(Path(args.units), problems)
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
                ratings[str(item["id"])] = raters.rating_of(rule, item, result["values"])
        reports = raters.assess(rule, units, ratings)
        if args.json:
            _out(json.dumps({"reports": [raters.report_json(r) for r in reports]}, ensure_ascii=False, indent=2))
        else:
            _out(raters.render(reports, rule))
    return EXIT_FAILED if any(s.far_above for r in reports for s in r.superiors) else EXIT_OK


def cmd_diff(args) -> int:
    """Exit 0 when the policies mean the same, 1 when they differ (as diff(1) does)."""
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
        problems = Diagnostics()
        units = distribution.read_units(Path(args.units), problems)
        if problems:
            for diagnostic in problems.sorted():
                _err(diagnostic.render())
            return EXIT_USAGE
    changes = compare(old.policy.data, new.policy.data)
    counted = _("1 difference") if len(changes) == 1 else _("{count} differences", count=len(changes))
    _out(
        f"{old.policy.id} {old.policy.version} ({old.policy.hash[:19]}) -> "
        f"{new.policy.id} {new.policy.version} ({new.policy.hash[:19]}): {counted}"
    )
    for change in changes:
        _out(change.render())
    if args.data:
        args.inputs = args.data
        records = [incoming.record for incoming in _records(args, old) if incoming.error is None]
        result = impact(old, new, records, units)
    elif args.db:
        from engine.service import stored_impact  # heavy (SQLAlchemy): only with --db

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


def cmd_replay(args) -> int:
    """Exit 0 when every evaluation replays identically, 1 when any differs."""
    from engine.service import ServiceError, replay_evaluations  # heavy (SQLAlchemy): see the module's docstring

    selected = bool(args.ids or args.submission or args.policy or args.period)
    if args.all == selected:
        return _usage(
            _(
                "name what to replay: EVALUATION_ID ..., --submission, --policy or --period; "
                "or --all (alone) for every stored evaluation"
            )
        )
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
        return _usage(
            _(
                "no stored evaluation matches {selection}",
                selection=" ".join(
                    f"--{name} {value}" for name, value in (("policy", args.policy), ("period", args.period)) if value
                ),
            )
        )
    if args.json:
        _out(
            _exact_json(
                {
                    "replayed": len(reports),
                    "identical": len(reports) - len(differ),
                    "differ": len(differ),
                    "evaluations": [r.as_json() for r in reports],
                }
            )
        )
    else:
        for report in differ:
            _out(
                _(
                    "evaluation {id} ({policy} {hash}) differs:",
                    id=report.evaluation_id,
                    policy=report.policy_id,
                    hash=report.policy_hash[:19],
                )
            )
            for difference in report.differences:
                _out(f"  {difference.render()}")
        replayed = (
            _("1 evaluation replayed") if len(reports) == 1 else _("{count} evaluations replayed", count=len(reports))
        )
        differing = _("1 differs") if len(differ) == 1 else _("{count} differ", count=len(differ))
        _out(f"{replayed}, " + _("{count} identical", count=len(reports) - len(differ)) + f", {differing}")
    return EXIT_FAILED if differ else EXIT_OK


def _exact_json(value) -> str:
    """Indented JSON whose numbers keep their exact decimal text (json.dumps would go through floats)."""

    return msgspec.json.format(encode(value), indent=2).decode("utf-8")
