"""Server time of the results page (/kiriman/<id>) for a 5,000-record submission.

Stores one serang submission of --records records (examples/serang.jsonl cycled, each with a NIP
of its own) on a temporary SQLite database (or --db URL), with units of 100 employees each, then
requests the page through Flask's test client (no network): once cold (the policy version is
compiled and the results decoded, once per process), then --repeat times per variant: as first
shown, sorted by tpp descending, and filtered by one unit and one predikat. Prints the median and
the slowest time of each; asserts nothing.

Run: python bench/web_results.py [--records 5000] [--repeat 9] [--db URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from engine import service
from engine.evaluate.io import decode_json, encode
from engine.service import accounts, submissions

ROOT = Path(__file__).resolve().parent.parent
UNIT_SIZE = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--db")
    args = parser.parse_args()
    from server import create_app

    directory = tempfile.mkdtemp(prefix="kinerja-bench-")
    app = create_app({"DATABASE_URL": args.db or f"sqlite:///{directory}/bench.sqlite"})
    store = app.extensions["kinerja_store"]
    examples = [decode_json(line) for line in (ROOT / "examples" / "serang.jsonl").read_bytes().splitlines() if line]
    records = []
    for number in range(args.records):
        record = dict(examples[number % len(examples)])
        record["id"] = f"19800101{number:010d}"
        records.append(record)
    user = accounts.create_user(store, "bench", "kata-sandi-bench", "agency", "dinkes")
    units = [
        {
            "id": f"unit-{i:03d}",
            "name": f"Unit {i:03d}",
            "predikat": "Baik",
            "members": [r["id"] for r in records[i * UNIT_SIZE : (i + 1) * UNIT_SIZE]],
        }
        for i in range(-(-len(records) // UNIT_SIZE))
    ]
    units_yaml = yaml.safe_dump({"units": units}).encode("utf-8")
    body = {"policy": "serang", "period": "2025-06", "records": records}
    started = time.perf_counter()
    _status, stored, _ = service.submit(store, user.caller, body, None, encode(body))
    print(f"stored {len(records)} records in {time.perf_counter() - started:.2f} s")
    parsed, problems = submissions.read_units("unit.yaml", units_yaml)
    assert not problems, problems
    from engine.service.store import SubmissionUnits

    with store.session() as session, session.begin():
        session.add(SubmissionUnits(submission_id=stored["id"], units=encode(submissions.units_json(parsed)).decode()))
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = user.id
    url = f"/kiriman/{stored['id']}"
    variants = {
        "as shown": url,
        "sorted by tpp, descending": url + "?urut=tpp&arah=turun",
        "one unit, one predikat": url + "?unit=unit-007&predikat=Baik",
    }
    started = time.perf_counter()
    client.get(url)  # the first request compiles the policy version and decodes the results, once per process
    print(f"results page, first request (cold): {(time.perf_counter() - started) * 1000:.0f} ms")
    for name, target in variants.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            answer = client.get(target)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.status_code
        print(
            f"results page, {name}: median {statistics.median(times) * 1000:.0f} ms, "
            f"slowest {max(times) * 1000:.0f} ms ({len(answer.data):,} bytes, {args.repeat} requests)"
        )
    store.dispose()


if __name__ == "__main__":
    main()
