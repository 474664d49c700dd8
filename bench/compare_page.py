"""What the reviewers' compare page (`/tinjauan`) costs on 10,000 stored evaluations.

Stores N serang evaluations (examples/serang.jsonl, each record with an id of its own) in a fresh
SQLite database (or --db URL), publishes a copy of serang whose Di Atas threshold is 105, signs in
a reviewer and times `GET /tinjauan?lama=serang&baru=serang-ambang` through the Flask test client
(server time only: every stored record is read, evaluated under both versions, compared, and the
page rendered), plus `engine.service.review.compare` alone. Prints the median of --runs; asserts
nothing.

Run: python bench/compare_page.py [--evaluations 10000] [--runs 5] [--db URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from engine import api, service
from engine.evaluate.io import decode_json, encode
from engine.service import review as review_service
from engine.service import workbench

#: Records per stored submission (the service's limit per request).
PER_SUBMISSION = service.MAX_RECORDS_PER_REQUEST


def store_evaluations(app, count: int) -> None:
    examples = [decode_json(line) for line in (ROOT / "examples" / "serang.jsonl").read_bytes().splitlines()]
    store = app.extensions["kinerja_store"]
    for start in range(0, count, PER_SUBMISSION):
        records = []
        for number in range(start, min(count, start + PER_SUBMISSION)):
            record = dict(examples[number % len(examples)])
            record["id"] = f"{199000000000000000 + number}"
            records.append(record)
        agency = f"opd-{start // PER_SUBMISSION + 1}"
        body = {"policy": "serang", "period": "2025-01", "records": records}
        service.submit(store, service.Caller(f"kunci-{agency}", "agency", agency), body, None, encode(body))
    loaded = api.load("serang")
    text = workbench.child_yaml(
        loaded,
        workbench.changes_from(loaded, {"values/batas_di_atas/formula": "105"}),
        workbench.Identity("serang-ambang", "1", "Serang, Di Atas mulai 105", "2024-01-01"),
    )
    service.publish_policy(store, service.Caller("admin", "admin", None), {"policy": text})


def timed(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    from webtools import add_user, sign_in

    from server import create_app

    with tempfile.TemporaryDirectory() as directory:
        url = args.db or f"sqlite:///{Path(directory) / 'bench.sqlite'}"
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        began = time.perf_counter()
        store_evaluations(app, args.evaluations)
        print(
            f"stored {args.evaluations:,} serang evaluations in {time.perf_counter() - began:.1f} s ({url.split(':')[0]})"
        )
        add_user(app, "peninjau", "reviewer")
        client = app.test_client()
        sign_in(client, "peninjau")
        store = app.extensions["kinerja_store"]
        reviewer = service.Caller("u:peninjau", "reviewer", None)
        result = review_service.compare(store, reviewer, "serang", "serang-ambang")
        print(f"{result.records:,} compared, {len(result.movers):,} move")

        def page():
            answer = client.get("/tinjauan?lama=serang&baru=serang-ambang")
            assert answer.status_code == 200

        service_times = timed(lambda: review_service.compare(store, reviewer, "serang", "serang-ambang"), args.runs)
        page_times = timed(page, args.runs)
        print(f"review_service.compare: median {statistics.median(service_times):.2f} s over {args.runs} runs")
        print(
            f"GET /tinjauan (server time, page rendered): median {statistics.median(page_times):.2f} s "
            f"over {args.runs} runs (min {min(page_times):.2f}, max {max(page_times):.2f})"
        )
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
