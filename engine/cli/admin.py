"""The administration commands: keys, users (the service's API keys and the web's people) and
serve (the HTTP service and the web under waitress)."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from engine.cli.common import EXIT_OK, EXIT_USAGE, _err, _on_store, _open_store, _out, _shown_url, _usage
from engine.i18n import _
from engine.service import create_key, has_keys, list_keys, revoke_key, serving
from engine.service.accounts import create_user, disable_user, list_users
from engine.service.store import database_url


def _when(text: str | None) -> str:
    """A stored timestamp as UTC to the second."""
    if not text:
        return "-"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def cmd_keys_create(args) -> int:
    created, failed = _on_store(args.db, lambda store: create_key(store, args.role, args.agency))
    if failed is not None:
        return failed
    key, secret = created
    if key.agency:
        _out(
            _(
                "created {role} key {id} for agency {agency}: {secret}",
                role=key.role,
                id=key.id,
                agency=key.agency,
                secret=secret,
            )
        )
    else:
        _out(_("created {role} key {id}: {secret}", role=key.role, id=key.id, secret=secret))
    return EXIT_OK


def cmd_keys_list(args) -> int:
    keys, failed = _on_store(args.db, list_keys)
    if failed is not None:
        return failed
    rows = [("id", "role", "agency", "created", "revoked")]
    rows += [(k["id"], k["role"], k["agency"] or "-", _when(k["created_at"]), _when(k["revoked_at"])) for k in keys]
    _print_table(rows)
    return EXIT_OK


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    """Rows in aligned columns, the last column left ragged."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        _out(" ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " " + row[-1])


def cmd_keys_revoke(args) -> int:
    _none, failed = _on_store(args.db, lambda store: revoke_key(store, args.key_id))
    if failed is not None:
        return failed
    _out(_("revoked key {id}", id=args.key_id))
    return EXIT_OK


def _read_password() -> str | None:
    """The new password: the first line of stdin when it is not a terminal (for scripts), else asked
    twice without echo; None after saying why when the two differ."""

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_("Password: "))
    if getpass.getpass(_("Password again: ")) != first:
        _err(_("kinerja: the two passwords differ; nothing was created"))
        return None
    return first


def cmd_users_create(args) -> int:
    password = _read_password()
    if password is None:
        return EXIT_USAGE
    account, failed = _on_store(
        args.db, lambda store: create_user(store, args.username, password, args.role, args.agency)
    )
    if failed is not None:
        return failed
    owner = _(" for agency {agency}", agency=account.agency) if account.agency else ""
    _out(_("created {role} user {name}{owner}", role=account.role, name=account.username, owner=owner))
    return EXIT_OK


def cmd_users_list(args) -> int:
    users, failed = _on_store(args.db, list_users)
    if failed is not None:
        return failed
    rows = [(_("username"), _("role"), _("agency"), _("created"), _("disabled"))]
    rows += [(u.username, u.role, u.agency or "-", _when(u.created_at), _when(u.disabled_at)) for u in users]
    _print_table(rows)
    return EXIT_OK


def cmd_users_disable(args) -> int:
    _none, failed = _on_store(args.db, lambda store: disable_user(store, args.username))
    if failed is not None:
        return failed
    _out(_("disabled user {name}", name=args.username))
    return EXIT_OK


def cmd_serve(args) -> int:
    return serve(
        args.db,
        host=args.host,
        port=args.port,
        threads=args.threads,
        timeout=args.timeout,
        header_timeout=args.header_timeout,
    )


def serve(
    db: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    timeout: int = 30,
    header_timeout: int = 10,
) -> int:
    """Run the service with waitress until interrupted; on a fresh database, create an admin key first.

    Waitress reads each request whole, and writes each response, in its own I/O loop, so a slow
    client occupies a connection, never a worker thread; a connection idle or stalled for
    `timeout` seconds is closed, and a body above the app's MAX_CONTENT_LENGTH is refused (by the
    app as problem+json, or unread by waitress when it is more than twice that). A client that
    trickles its headers is closed after `header_timeout` seconds (engine.service.serving).
    """
    import server  # the Flask app (and its web): only `serve` needs it, and it is heavy

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
            return _usage(
                _("cannot listen on {address}: {reason}", address=f"{host}:{port}", reason=error.strerror or error)
            )
        if not has_keys(store):  # only once the port is ours, so the key is not shown for nothing
            _key, secret = create_key(store, "admin", None)
            _out(_("admin key (shown once): {secret}", secret=secret))
    finally:
        store.dispose()
    bound_host = getattr(listening, "effective_host", host)
    bound_port = getattr(listening, "effective_port", port)
    shown_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    _out(
        _(
            "Kinerja serving on {url} (database: {database})",
            url=f"http://{shown_host}:{bound_port}/v1",
            database=_shown_url(url),
        )
    )
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
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def stop(_signal, _frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    return lambda: signal.signal(signal.SIGTERM, previous)


#: Largest request body when the app states no MAX_CONTENT_LENGTH.
MAX_BODY = 10 * 1024 * 1024
