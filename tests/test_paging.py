"""Paging never skips (issue 10, item 4): a reader following GET /v1/evaluations?after=... while
others submit sees every evaluation exactly once, in the order of the final full listing, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from engine import service
from engine.evaluate.io import decode_json
from engine.service.store import open_store

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SUBMITTERS = 4
SUBMISSIONS_EACH = 8


def records(prefix: str) -> list[dict]:
    lines = (EXAMPLES / "pp-46-2011.jsonl").read_bytes().splitlines()
    found = [decode_json(line) for line in lines]
    for number, record in enumerate(found):
        record["id"] = f"{prefix}{number:04d}"
    return found


def follow(store, caller, cursor):
    """Every page after `cursor`: (ids read, the new cursor)."""
    read = []
    while True:
        page = service.list_evaluations(store, caller, limit=7, after=cursor)
        read += [e["id"] for e in page["evaluations"]]
        if page["evaluations"]:
            cursor = page["evaluations"][-1]["id"]
        if page["next"] is None:
            return read, cursor


def test_a_reader_following_the_cursor_sees_every_evaluation_once(db_url):
    store = open_store(db_url)
    try:
        reviewer = service.authenticate(store, "Bearer " + service.create_key(store, "reviewer", None)[1])
        agencies = [
            service.authenticate(store, "Bearer " + service.create_key(store, "agency", f"opd{k}")[1])
            for k in range(SUBMITTERS)
        ]

        def body(k: int, n: int) -> dict:
            return {"policy": "pp-46-2011", "period": "2020", "records": records(f"{k}{n:02d}")}

        service.submit(store, agencies[0], body(9, 99), None, b"seed")  # a first page to start from
        failures: list = []

        def submitter(k: int) -> None:
            try:
                for n in range(SUBMISSIONS_EACH):
                    service.submit(store, agencies[k], body(k, n), None, f"{k}-{n}".encode())
            except Exception as error:  # reported by the test, not lost in a thread
                failures.append(error)

        threads = [threading.Thread(target=submitter, args=(k,)) for k in range(SUBMITTERS)]
        for thread in threads:
            thread.start()
        seen, cursor = follow(store, reviewer, None)
        while any(thread.is_alive() for thread in threads):
            more, cursor = follow(store, reviewer, cursor)
            seen += more
            time.sleep(0.001)
        for thread in threads:
            thread.join()
        more, cursor = follow(store, reviewer, cursor)
        seen += more
        assert not failures, failures
        everything, _ = follow(store, reviewer, None)
        per_submission = len(records("x"))
        assert len(everything) == (1 + SUBMITTERS * SUBMISSIONS_EACH) * per_submission
        assert len(seen) == len(set(seen)), "an evaluation was read twice"
        assert seen == everything, f"the reader missed {len(set(everything) - set(seen))} evaluations"
    finally:
        store.dispose()
