"""The evaluation commands: eval (the facade's batch path, or the exact evaluator with a trace),
explain (with --what-if) and template (a policy's empty data template)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import cast

from engine import api
from engine.api import evaluate
from engine.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    _chooser,
    _err,
    _load,
    _open_inputs,
    _out,
    _read,
    _records,
    _usage,
    _writer,
)
from engine.evaluate import batch
from engine.evaluate.io import detect_format, encode
from engine.evaluate.sheets import template_csv, template_xlsx
from engine.i18n import _
from engine.language.printer import value_text
from engine.review.explain import explain, trace_json
from engine.review.whatif import predikat_output, what_if
from engine.review.whatif import render as render_what_if


def cmd_eval(args) -> int:
    chooser = _chooser(args.policy, args.period)
    if chooser is None:
        return EXIT_USAGE
    if (
        args.dask
        or args.input_format in ("parquet", "arrow")
        or any(name.lower().endswith((".parquet", ".pq", ".arrow", ".feather", ".ipc")) for name in args.inputs)
    ):
        from engine.cli.columnar import eval_columnar  # pyarrow and NumPy only for columnar files

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
    """The batch path: JSON Lines stream through the facade (engine.api.stream_jsonl, which decides
    how: every core for a large file); JSON, CSV and workbooks go record by record through the
    facade's same rule."""
    loaded = chooser.default
    sizes = [os.path.getsize(name) if name != "-" and os.path.isfile(name) else None for name in args.inputs or ["-"]]
    total = None if None in sizes else sum(cast(list[int], sizes))
    progress = batch.Progress(total)
    bad = 0
    writer = None if args.format == "jsonl" else _writer(target, args.format, list(loaded.policy.outputs))
    evaluator: api.LineEvaluator = api.LineEvaluator(chooser.for_record, loaded)
    chunked = None  # the columnar evaluator, when asked for: it counts which path ran
    if args.columns or args.outputs_only or args.explain_engine:  # NumPy is imported only then
        from engine.cli.columnar_lines import ChunkEvaluator

        evaluator = chunked = ChunkEvaluator(
            chooser.for_record, loaded, with_values=not args.outputs_only, use_columns=args.columns
        )
    try:
        for name, stream in _open_inputs(args.inputs):
            fmt = args.input_format
            if fmt is None:
                fmt = detect_format(name, stream.peek(64) if hasattr(stream, "peek") else b"")
            if fmt == "jsonl" and writer is None:
                _, failed = api.stream_jsonl(name, stream, target, evaluator, progress, one_process=args.explain_engine)
                bad += failed
                continue
            records = _read(name, stream, fmt, loaded.policy)
            for result, failed in api.results_of(records, chooser.for_record, loaded):
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
    if chunked is not None and args.explain_engine:
        _err(chunked.explain())
    return bad


def _eval_traced(args, chooser, target) -> int:
    """Record by record through the exact evaluator, which keeps the trace."""
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
    loaded = _load(args.policy)
    if loaded is None:
        return EXIT_USAGE
    if args.what_if and predikat_output(loaded.policy) is None:
        return _usage(_("policy {id} has no output with `labels` (a predikat) for --what-if", id=loaded.policy.id))
    en = args.lang == "en"
    bad = 0
    for incoming in _records(args, loaded):
        label = (incoming.record or {}).get("id") if isinstance(incoming.record, dict) else None
        _out(
            _(
                "Record {label} ({policy}):",
                label=label if label is not None else incoming.line,
                policy=loaded.policy.id,
            )
        )
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
        shown = ", ".join(
            f"{k} = {value_text(v, '.' if en else ',') if not isinstance(v, str) else v}"
            for k, v in result["outputs"].items()
        )
        _out("  " + _("Result: {outputs}", outputs=shown))
        report = what_if(loaded, incoming.record) if args.what_if else None
        for line in render_what_if(report, args.lang) if report is not None else []:
            _out(f"  {line}")
        _out()
    return EXIT_FAILED if bad else EXIT_OK


def cmd_template(args) -> int:
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
