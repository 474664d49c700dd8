"""Faults are answered in words (issue 10, item 7): a database that drops the connection or runs
out of room during a write gives 503 problem+json with Retry-After, and nothing is stored; SQLite's
log stays bounded under continuous reads."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import psycopg
from sqlalchemy import event, func, select

from engine import service
from engine.evaluate.io import decode_json, encode
from engine.service.store import Evaluation, Submission, open_store

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def body(count: int = 200, prefix: str = "1990") -> bytes:
    base = [decode_json(line) for line in (EXAMPLES / "pp-46-2011.jsonl").read_bytes().splitlines()]
    records = []
    for number in range(count):
        record = dict(base[number % len(base)])
        record["id"] = f"{prefix}{number:014d}"
        records.append(record)
    return encode({"policy": "pp-46-2011", "period": "2020", "records": records})


def stored(store) -> tuple[int, int]:
    with store.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Submission)),
            session.scalar(select(func.count()).select_from(Evaluation)),
        )


def break_the_next_write(store, db_url: str) -> None:
    """SQLite: the disk is full (no page may be added). PostgreSQL: the server drops the connection
    in the middle of storing the evaluations."""
    if db_url.startswith("sqlite"):
        with store.engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

        def full(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA max_page_count={pages + 1}")

        event.listen(store.engine, "connect", full)
        store.engine.dispose()
        return

    def drop(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO evaluations"):
            event.remove(store.engine, "before_cursor_execute", drop)
            pid = connection.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    event.listen(store.engine, "before_cursor_execute", drop)


def _listeners(store):
    return [fn for fn in store.engine.pool.dispatch.connect if getattr(fn, "__name__", "") == "full"]


def test_a_failing_write_is_a_503_with_retry_after_and_stores_nothing(app, client, db_url):
    store = app.extensions["kinerja_store"]
    _, secret = service.create_key(store, "agency", "dinkes")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json", "Idempotency-Key": "k1"}
    before = stored(store)
    break_the_next_write(store, db_url)
    response = client.post("/v1/submissions", data=body(), headers=headers)
    assert response.status_code == 503, response.data
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["errors"][0]["code"] == "unavailable"
    if db_url.startswith("sqlite"):
        for listener in _listeners(store):
            event.remove(store.engine, "connect", listener)
        store.engine.dispose()
    assert stored(store) == before  # nothing, not even the submission row
    retried = client.post("/v1/submissions", data=body(), headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert stored(store) == (before[0] + 1, before[1] + 200)


def test_the_sqlite_log_stays_bounded_under_continuous_reads(tmp_path):
    path = tmp_path / "kinerja.sqlite"
    store = open_store(f"sqlite:///{path}")
    store.wal_limit = 256 * 1024  # without the checkpoint the log passed 4 MB here
    try:
        _, secret = service.create_key(store, "agency", "dinkes")
        caller = service.authenticate(store, f"Bearer {secret}")
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                with store.session() as session:  # a read transaction held a little while
                    session.scalar(select(func.count()).select_from(Evaluation))
                    session.scalars(select(Evaluation.id).limit(50)).all()

        readers = [threading.Thread(target=read) for _ in range(3)]
        for reader in readers:
            reader.start()
        largest = 0
        try:
            for n in range(30):
                data = body(50, prefix=f"{n:04d}")
                service.submit(store, caller, decode_json(data), None, data)
                largest = max(largest, os.path.getsize(f"{path}-wal"))
        finally:
            stop.set()
            for reader in readers:
                reader.join()
        print(f"largest WAL under continuous reads: {largest:,} bytes")
        assert largest < 4 * store.wal_limit
    finally:
        store.dispose()
