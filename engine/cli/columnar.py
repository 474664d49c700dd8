"""The `kinerja eval` glue for columnar inputs and --dask (kept here so engine.cli gains two lines)."""

from __future__ import annotations

import sys

from engine.i18n import _

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def eval_columnar(args, chooser) -> int:
    """Parquet or Arrow IPC in; JSON Lines (standard output or -o), or a columnar file (-o x.parquet)."""
    from engine.cli import columnar_files as files
    from engine.evaluate import columnar_io as cio

    if not args.inputs or "-" in args.inputs or not all(cio.is_columnar(n, args.input_format) for n in args.inputs):
        print(
            "kinerja: " + _("--dask and columnar inputs need Parquet or Arrow files named on the command line"),
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.explain or args.trace or args.format != "jsonl":
        print(
            "kinerja: "
            + _(
                "columnar inputs are written as JSON Lines or, with -o NAME.parquet, as Parquet; "
                "--explain and --trace read JSON"
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        totals = files.run(
            args.policy,
            args.period,
            args.inputs,
            None if args.output else sys.stdout.buffer,
            args.output,
            not args.outputs_only,
            args.dask,
        )
    except (cio.ColumnarFileError, OSError) as error:
        print(f"kinerja: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - pyarrow's own errors for a file that is not Parquet
        import pyarrow as pa

        if isinstance(error, pa.ArrowException):
            print(
                "kinerja: " + _("cannot read {name}: {error}", name=", ".join(args.inputs), error=error),
                file=sys.stderr,
            )
            return EXIT_USAGE
        raise
    if args.explain_engine:
        files.explain(totals)
    if totals.bad:
        print(
            "kinerja: " + _("{count} record(s) had errors; the others were evaluated", count=totals.bad),
            file=sys.stderr,
        )
    return EXIT_FAILED if totals.bad else EXIT_OK
