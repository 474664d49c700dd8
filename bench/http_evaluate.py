"""Throughput of `POST /v1/policies/pp-46-2011/evaluate` over HTTP on loopback.

Starts `kinerja serve` on a temporary SQLite database and a free port (or uses --url and --key),
then runs concurrent clients, each on one keep-alive connection, each request carrying 1,000
pp-46-2011 records built from examples/pp-46-2011.jsonl. Bounded: --requests in all (default
40) and at most --seconds (default 120). Prints requests/s, records/s and latency percentiles;
asserts nothing. Clients and server share this machine's cores, as they would on one host.

Run: python bench/http_evaluate.py [--requests N] [--clients N] [--records N] [--seconds S]
                                   [--url http://127.0.0.1:PORT --key KEY]
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from engine.evaluate.io import decode_json, encode

ROOT = Path(__file__).resolve().parent.parent
PATH = "/v1/policies/pp-46-2011/evaluate"
BANNER = re.compile(r"Kinerja serving on (http://[^/\s]+)/v1 ")


def request_body(count: int) -> bytes:
    """`count` records cycling through the examples, each with an id of its own."""
    examples = [decode_json(line) for line in (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()]
    records = []
    for number in range(count):
        record = dict(examples[number % len(examples)])
        record["id"] = f"1990{number:014d}"
        records.append(record)
    return encode({"records": records})


def start_server(directory: str, threads: int) -> tuple[subprocess.Popen, str, str]:
    """`kinerja serve` on a fresh SQLite file and a free loopback port: (process, base URL, admin key).

    The server's log goes to server.log in `directory` (waitress notes each time requests queue)."""
    with open(Path(directory) / "server.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--threads",
                str(threads),
                "--db",
                f"sqlite:///{Path(directory) / 'bench.sqlite'}",
            ],
            cwd=directory,
            env={**os.environ, "KINERJA_LANG": "en"},  # the banner read below is the English one
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.decode("utf-8").rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    key, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line.startswith("admin key (shown once): "):
            key = line.split()[-1]
        found = BANNER.match(line)
        if found and key:
            return process, found.group(1), key
    process.kill()
    process.wait(timeout=30)
    raise SystemExit("kinerja serve did not start within 60 s")


def post(connection: http.client.HTTPConnection, body: bytes, key: str) -> tuple[int, bytes]:
    connection.request(
        "POST", PATH, body=body, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    )
    response = connection.getresponse()
    return response.status, response.read()


def run(base: str, key: str, body: bytes, records: int, requests: int, clients: int, seconds: float) -> None:
    target = urlsplit(base)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback only: --url must be http://127.0.0.1:PORT")
    port = target.port or 80

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(target.hostname, port, timeout=60)

    # One request first, checked in full: the policy is compiled, and the answer is right.
    warm = connect()
    status, data = post(warm, body, key)
    warm.close()
    if status != 200:
        raise SystemExit(f"warm-up request failed: {status} {data[:300]!r}")
    results = decode_json(data)["results"]
    if len(results) != records or any("errors" in r for r in results):
        raise SystemExit("warm-up request: wrong number of results or records with errors")

    tickets = iter(range(requests))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds

    def client() -> None:
        connection = connect()
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if next(tickets, None) is None:
                        return
                began = time.perf_counter()
                try:
                    status, data = post(connection, body, key)
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        failures.append(f"{type(error).__name__}: {error}")
                    connection.close()
                    connection = connect()
                    continue
                took = time.perf_counter() - began
                with lock:
                    if status == 200 and data.startswith(b'{"results":['):
                        latencies.append(took)
                    else:
                        failures.append(f"{status} {data[:200]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 90)
    elapsed = time.perf_counter() - started
    done = len(latencies)
    print(
        f"POST {PATH}: {records:,} records per request, {clients} concurrent clients (keep-alive), "
        f"loopback, {os.cpu_count()} cores shared by clients and server"
    )
    print(
        f"{done} requests answered 200 in {elapsed:.2f} s ({len(failures)} failed"
        f"{', stopped at the time limit' if done + len(failures) < requests else ''})"
    )
    for failure in failures[:5]:
        print(f"  failed: {failure}")
    if not done:
        return
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    print(f"throughput: {done / elapsed:.2f} requests/s, {done * records / elapsed:,.0f} records/s")
    print(
        f"latency: p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="requests in all (default 40)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--records", type=int, default=1000, help="records per request (default 1000)")
    parser.add_argument("--seconds", type=float, default=120, help="stop starting requests after this (default 120)")
    parser.add_argument("--threads", type=int, default=8, help="worker threads of the server started (default 8)")
    parser.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000 (with --key)")
    parser.add_argument("--key", help="an API key for --url")
    args = parser.parse_args()
    if not (
        1 <= args.requests <= 10_000
        and 1 <= args.clients <= 64
        and 1 <= args.records <= 5000
        and 0 < args.seconds <= 600
    ):
        parser.error("bounded: --requests 1..10000, --clients 1..64, --records 1..5000, --seconds up to 600")
    if bool(args.url) != bool(args.key):
        parser.error("give --url and --key together")
    body = request_body(args.records)
    if args.url:
        run(
            args.url.rstrip("/").removesuffix("/v1"),
            args.key,
            body,
            args.records,
            args.requests,
            args.clients,
            args.seconds,
        )
        return
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-") as directory:
        process, base, key = start_server(directory, args.threads)
        try:
            print(f"server: kinerja serve --threads {args.threads} on {base}, SQLite in a temporary directory")
            run(base, key, body, args.records, args.requests, args.clients, args.seconds)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
            log = (Path(directory) / "server.log").read_text(encoding="utf-8", errors="replace").splitlines()
            queued = sum(1 for line in log if line.startswith("Task queue depth"))
            others = [line for line in log if not line.startswith("Task queue depth")]
            print(f"server log: {queued} notes that requests waited for a worker; {len(others)} other lines")
            for line in others[:20]:
                print(f"  {line}")


if __name__ == "__main__":
    main()
