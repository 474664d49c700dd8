"""What every command group of the CLI shares: printing, exit codes, loading a policy or choosing
its version (errors printed, never raised), reading record inputs and writing results, and
opening the store."""

from __future__ import annotations

import sys

from engine.api import Chooser, load
from engine.diagnostics import PolicyError
from engine.evaluate.io import ResultWriter, detect_format, read_records
from engine.evaluate.sheets import MAX_UPLOAD_BYTES, ResultBook, incoming
from engine.i18n import N_, _
from engine.policy.document import available
from engine.policy.versions import SEPARATOR, choose

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


INPUT_FORMATS = ("json", "jsonl", "csv", "xlsx", "parquet", "arrow")


DB_HELP = N_("database URL (default: $KINERJA_DB, else sqlite:///kinerja.sqlite)")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _usage(message: str) -> int:
    _err(f"kinerja: {message}")
    return EXIT_USAGE


def _load(target: str, say=None):
    """The compiled policy, or None after printing its errors (to stderr unless `say` is given:
    `kinerja test` reports on stdout, where its other results go)."""
    say = say or _err
    try:
        return load(choose(target) if SEPARATOR in target else target)
    except PolicyError as error:
        say("kinerja: " + _("policy {target} has errors:", target=target))
        for diagnostic in error.diagnostics:
            say(diagnostic.render())
        return None


def _chooser(target: str, period: str | None):
    """The versions of a policy to evaluate records with (engine.policy.api.Chooser), or None after
    printing why none can be chosen."""
    try:
        return Chooser(target, period)
    except PolicyError as error:
        choosing = all(d.code.startswith(("version.", "period.")) for d in error.diagnostics)
        _err(
            "kinerja: "
            + (
                _("cannot choose a version of {target}:", target=target)
                if choosing
                else _("policy {target} has errors:", target=target)
            )
        )
        for diagnostic in error.diagnostics:
            _err(diagnostic.render())
        return None


def _targets(names: list[str]) -> list[str]:
    return names or sorted(available())


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


def _records(args, loaded):
    for name, stream in _open_inputs(args.inputs):
        fmt = args.input_format
        if fmt is None:
            head = stream.peek(64) if hasattr(stream, "peek") else b""
            fmt = detect_format(name, head)
        yield from _read(name, stream, fmt, loaded.policy)


def _read(name: str, stream, fmt: str, policy):
    """Records of one input: a workbook through engine.evaluate.sheets, anything else through engine.evaluate.io."""
    if fmt != "xlsx":
        return read_records(stream, fmt, policy)
    return incoming(policy, name, stream.read(MAX_UPLOAD_BYTES + 1))


def _writer(target, fmt: str, output_names: list[str]):
    if fmt == "xlsx":
        return ResultBook(target, output_names)
    return ResultWriter(target, fmt, output_names)


def _open_store(db: str | None):
    """The store at --db (migrated), or None after saying why it cannot be opened."""
    # SQLAlchemy and the store are heavy: imported only by the commands that open a database.
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from engine.service.store import database_url, open_store

    url = database_url(db)
    try:
        return open_store(url)
    except (SQLAlchemyError, ArgumentError, OSError) as error:
        _err(
            "kinerja: "
            + _("cannot open the database {url}: {reason}", url=_shown_url(url), reason=str(error).splitlines()[0])
        )
        return None


def _on_store(db: str | None, call):
    """(call(store), None) on the store at --db, disposed after; (None, exit code) when the store
    cannot be opened or the service refuses (its message said as a usage error)."""
    from engine.service import ServiceError  # the service (SQLAlchemy): only with a database

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
    from sqlalchemy.engine import make_url  # only with a database (see _open_store)
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL at all: shown as given, no password to find in it
        return url
