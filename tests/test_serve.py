"""`kinerja keys` and `kinerja serve` on SQLite and on the real PostgreSQL, through real HTTP.

The servers run as child processes on 127.0.0.1 (port 0: the system picks a free one and the
banner says which), so a test can kill one with SIGKILL as a power cut would. Every wait has a
timeout and every child is killed when its test ends, passed or not.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import api, service
from engine.evaluate.io import decode_json, encode
from engine.service.store import Evaluation, Submission, open_store

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BANNER = re.compile(r"Kinerja serving on (http://127\.0\.0\.1:(\d+))/v1 \(database: (.*)\)$")


def example_records() -> list[dict]:
    return [decode_json(line) for line in (EXAMPLES / "pp-46-2011.jsonl").read_bytes().splitlines()]


def submission_body(records: list[dict], period: str = "2020") -> bytes:
    return encode({"policy": "pp-46-2011", "period": period, "records": records})


def many_records(count: int) -> list[dict]:
    """`count` records cycling through the examples, each with an id of its own."""
    base = example_records()
    records = []
    for number in range(count):
        record = dict(base[number % len(base)])
        record["id"] = f"1990{number:014d}"
        records.append(record)
    return records


class Server:
    """`kinerja serve` in a child process on a free loopback port."""

    def __init__(self, db_url: str, workdir: Path, *options: str):
        self.errors = open(workdir / f"serve-{time.monotonic_ns()}.stderr", "w+b")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--db",
                db_url,
                *options,
            ],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            stdin=subprocess.DEVNULL,
        )
        lines: queue.Queue = queue.Queue()

        def read_stdout() -> None:
            for line in self.process.stdout:
                lines.put(line)

        threading.Thread(target=read_stdout, daemon=True).start()
        self.admin_key = None
        self.output = []
        deadline = time.monotonic() + 60
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic())).decode("utf-8").rstrip("\n")
            except queue.Empty:
                self.kill()
                pytest.fail(f"kinerja serve printed no banner within 60 s; stderr:\n{self.stderr()}")
            self.output.append(line)
            if line.startswith("admin key (shown once): "):
                self.admin_key = line.split()[-1]
            found = BANNER.match(line)
            if found:
                self.base, self.port, self.database = found.group(1), int(found.group(2)), found.group(3)
                break

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        key: str | None = None,
        headers: dict | None = None,
        timeout: float = 60,
    ) -> tuple[int, dict]:
        return call(self.port, method, path, body, key, headers, timeout)

    def stderr(self) -> str:
        self.errors.flush()
        self.errors.seek(0)
        return self.errors.read().decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as in a power cut."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM: stops after answering what it is busy with."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail("kinerja serve did not stop within 30 s of SIGTERM")
        return self.process.returncode


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    key: str | None = None,
    headers: dict | None = None,
    timeout: float = 60,
) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = {"Content-Type": "application/json"} if body is not None else {}
        if key:
            sent["Authorization"] = f"Bearer {key}"
        sent.update(headers or {})
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {})
    finally:
        connection.close()


@pytest.fixture
def serve(db_url, tmp_path):
    """serve(*options) -> a running Server on db_url; every server started is killed at the end."""
    started: list[Server] = []

    def start(*options: str) -> Server:
        server = Server(db_url, tmp_path, *options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
        server.errors.close()


@pytest.fixture
def store(db_url):
    opened = open_store(db_url)
    yield opened
    opened.dispose()


def counts(store, agency: str | None = None) -> tuple[int, int]:
    """(submissions, evaluations) stored, for one agency or in all."""
    submissions, evaluations = (
        select(func.count()).select_from(Submission),
        select(func.count()).select_from(Evaluation),
    )
    if agency is not None:
        submissions = submissions.where(Submission.agency == agency)
        evaluations = evaluations.where(Evaluation.agency == agency)
    with store.session() as session:
        return session.scalar(submissions), session.scalar(evaluations)


def agency_key(store, agency: str) -> str:
    return service.create_key(store, "agency", agency)[1]


# 1. kinerja keys --------------------------------------------------------------------------


def test_keys_create_list_and_revoke(db_url, run_cli):
    code, out, err = run_cli("keys", "create", "--role", "agency", "--agency", "dinkes", "--db", db_url)
    assert code == 0, err
    found = re.fullmatch(r"created agency key ([0-9a-f]{12}) for agency dinkes: (knj_\S+)\n", out)
    assert found, out
    key_id, secret = found.groups()
    assert out.split()[-1] == secret and secret.startswith(f"knj_{key_id}_")

    code, out, err = run_cli("keys", "create", "--role", "reviewer", "--db", db_url)
    assert code == 0 and re.fullmatch(r"created reviewer key [0-9a-f]{12}: knj_\S+\n", out), (out, err)
    reviewer_id = out.split()[3].rstrip(":")

    code, out, err = run_cli("keys", "create", "--role", "agency", "--db", db_url)
    assert (code, out) == (2, "") and err == "kinerja: an agency key needs --agency ID\n"
    code, out, err = run_cli("keys", "create", "--role", "admin", "--agency", "dinkes", "--db", db_url)
    assert code == 2 and "only agency keys belong to an agency" in err

    code, out, err = run_cli("keys", "list", "--db", db_url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["id", "role", "agency", "created", "revoked"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {key_id, reviewer_id}
    assert rows[key_id][1:3] == ["agency", "dinkes"] and rows[key_id][-1] == "-"
    assert rows[reviewer_id][1:3] == ["reviewer", "-"]
    assert secret not in out and secret.split("_")[-1] not in out  # secrets are never shown again

    import server

    client = server.create_app({"DATABASE_URL": db_url}).test_client()
    authorised = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/evaluations", headers=authorised).status_code == 200

    code, out, err = run_cli("keys", "revoke", key_id, "--db", db_url)
    assert (code, out) == (0, f"revoked key {key_id}\n"), err
    code, out, _ = run_cli("keys", "list", "--db", db_url)
    revoked = next(line.split() for line in out.splitlines() if line.startswith(key_id))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", revoked[-2]) and revoked[-1].endswith("Z")  # a revocation time
    refused = client.get("/v1/evaluations", headers=authorised)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"].startswith("application/problem+json")

    code, out, err = run_cli("keys", "revoke", "nosuchkey", "--db", db_url)
    assert (code, out, err) == (2, "", "kinerja: no key nosuchkey\n")


# 2. Idempotency under concurrent retries ---------------------------------------------------


def test_concurrent_retries_with_one_idempotency_key_store_one_submission(serve, store):
    server = serve()
    key = agency_key(store, "dinkes")
    body = submission_body(example_records())
    clients = 8
    start = threading.Barrier(clients, timeout=30)
    answers: list = [None] * clients

    def post(slot: int) -> None:
        start.wait()
        try:
            answers[slot] = server.request("POST", "/v1/submissions", body, key, {"Idempotency-Key": "dinkes-2020-1"})
        except Exception as error:  # reported below, with the others
            answers[slot] = error

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [answer[0] if isinstance(answer, tuple) else answer for answer in answers] == [201] * clients
    first = answers[0][1]
    assert all(answer[1] == first for answer in answers)
    assert first["record_count"] == 3 and len(first["evaluations"]) == 3
    assert counts(store) == (1, 3)
    status, page = server.request("GET", "/v1/evaluations", key=key)
    assert status == 200 and sorted(e["id"] for e in page["evaluations"]) == sorted(
        e["id"] for e in first["evaluations"]
    )
    assert "Traceback" not in server.stderr()


# 3. SIGKILL in the middle of a large submission ---------------------------------------------

RECORDS = 4000  # under service.MAX_RECORDS_PER_REQUEST, about 1.4 MB


class Flight:
    """A POST sent from a thread: `sent` is set once the whole body is on its way."""

    def __init__(self, server: Server, body: bytes, key: str, idempotency_key: str):
        self.sent, self.done, self.outcome = threading.Event(), threading.Event(), None

        def fly():
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                connection.request(
                    "POST",
                    "/v1/submissions",
                    body=body,
                    headers={
                        "Authorization": f"Bearer {key}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": idempotency_key,
                    },
                )
                self.sent.set()
                response = connection.getresponse()
                self.outcome = (response.status, response.read())
            except Exception as error:
                self.outcome = error
            finally:
                self.sent.set()
                self.done.set()
                connection.close()

        self.thread = threading.Thread(target=fly, daemon=True)
        self.thread.start()


def writer_busy(db_url: str):
    """A function telling whether some connection is inside a write transaction right now."""
    if db_url.startswith("sqlite"):
        path = db_url[len("sqlite:///") :]

        def sqlite_busy() -> bool:
            probe = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")  # refused at once while another writer holds the lock
                probe.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError as error:
                if "locked" in str(error) or "busy" in str(error):
                    return True
                raise
            finally:
                probe.close()

        return sqlite_busy, lambda: None
    import psycopg

    database = db_url.rsplit("/", 1)[1]
    watcher = psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={database}", autocommit=True)

    def postgres_busy() -> bool:
        return (
            watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            ).fetchone()[0]
            > 0
        )

    return postgres_busy, watcher.close


def test_a_server_killed_mid_submission_stores_nothing_and_the_retry_succeeds_once(serve, store, db_url):
    server = serve()
    dinkes, bapenda = agency_key(store, "dinkes"), agency_key(store, "bapenda")
    # Another agency's earlier submission: it must survive the kills untouched (and it stores the
    # policy version, so the only write left for the big submission is the submission itself).
    status, earlier = server.request(
        "POST", "/v1/submissions", submission_body(example_records()), bapenda, {"Idempotency-Key": "bapenda-2020"}
    )
    assert status == 201
    body = submission_body(many_records(RECORDS))
    assert len(body) < 10 * 1024 * 1024

    # Killed while evaluating: the body has arrived, nothing is written yet.
    flight = Flight(server, body, dinkes, "dinkes-2020-besar")
    assert flight.sent.wait(timeout=30)
    time.sleep(0.4)
    assert not flight.done.is_set(), f"the server answered within 0.4 s: {flight.outcome!r:.200}"
    server.kill()
    assert flight.done.wait(timeout=30) and isinstance(flight.outcome, Exception), flight.outcome
    assert counts(store, "dinkes") == (0, 0)

    # Killed while writing: the transaction holding the submission and its evaluations is open.
    server = serve()
    assert server.admin_key is None  # not a fresh database any more
    assert server.request("GET", "/v1/evaluations", key=dinkes) == (200, {"evaluations": [], "next": None})
    busy, close_watch = writer_busy(db_url)
    try:
        flight = Flight(server, body, dinkes, "dinkes-2020-besar")
        deadline = time.monotonic() + 60
        while not busy() and not flight.done.is_set() and time.monotonic() < deadline:
            time.sleep(0.002)
        assert not flight.done.is_set(), f"the server answered before it was seen writing: {flight.outcome!r:.200}"
        server.kill()
    finally:
        close_watch()
    assert flight.done.wait(timeout=30) and isinstance(flight.outcome, Exception), flight.outcome

    # After the restart: nothing partial, and the retry is stored exactly once.
    server = serve()
    assert counts(store, "dinkes") == (0, 0)
    assert server.request("GET", "/v1/evaluations", key=dinkes) == (200, {"evaluations": [], "next": None})
    assert server.request("GET", f"/v1/submissions/{earlier['id']}", key=bapenda) == (200, earlier)
    status, stored = server.request("POST", "/v1/submissions", body, dinkes, {"Idempotency-Key": "dinkes-2020-besar"})
    assert status == 201 and stored["record_count"] == RECORDS and len(stored["evaluations"]) == RECORDS
    assert counts(store, "dinkes") == (1, RECORDS)
    seen, after = [], None
    while True:
        query = "/v1/evaluations?limit=500" + (f"&after={after}" if after else "")
        status, page = server.request("GET", query, key=dinkes)
        assert status == 200
        seen += [e["record_id"] for e in page["evaluations"]]
        after = page["next"]
        if after is None:
            break
    assert sorted(seen) == sorted(f"1990{n:014d}" for n in range(RECORDS))
    again = server.request("POST", "/v1/submissions", body, dinkes, {"Idempotency-Key": "dinkes-2020-besar"})
    assert again == (201, stored)
    assert counts(store, "dinkes") == (1, RECORDS) and counts(store, "bapenda") == (1, 3)
    assert "Traceback" not in server.stderr()


# 4. The README's walkthrough --------------------------------------------------------------


def readme_service_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"\n## The service\n(.*?)\n## ", text, flags=re.S).group(1)
    return re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "paste", "awk")),
    reason="the walkthrough uses bash, curl, paste and awk",
)
def test_the_readme_walkthrough(serve, db_url, tmp_path):
    """The sh blocks of README's "The service", run as written against a server on db_url."""
    blocks = readme_service_blocks()
    assert blocks[0] == "kinerja serve"  # started here on a free port instead of 8000
    server = serve()
    assert server.admin_key and server.admin_key.startswith("knj_")
    assert server.output[-1] == f"Kinerja serving on {server.base}/v1 (database: {db_url})"
    marker = "@@ next block @@"
    script = f"\necho '{marker}'\n".join(block.replace("http://127.0.0.1:8000", server.base) for block in blocks[1:])
    (tmp_path / "examples").symlink_to(EXAMPLES)
    environment = dict(os.environ, KINERJA_DB=db_url, KINERJA_PYTHON=sys.executable)
    done = subprocess.run(
        ["bash", "-c", 'set -euo pipefail\nkinerja() { "$KINERJA_PYTHON" -m engine.cli "$@"; }\n' + script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    outputs = dict(zip(blocks[1:], done.stdout.decode("utf-8").split(marker + "\n")))
    assert len(outputs) == len(blocks) - 1

    def output_of(fragment: str):
        (block,) = [block for block in outputs if fragment in block]
        return json.loads(outputs[block])

    stored = output_of("/v1/submissions")
    assert stored["agency"] == "dinkes" and stored["period"] == "2020" and stored["record_count"] == 3
    read = output_of("/v1/evaluations?period=2020")["evaluations"]
    assert [e["record_id"] for e in read] == [r["id"] for r in example_records()]
    loaded = api.load("pp-46-2011")
    expected = [json.loads(encode(api.evaluate(loaded, record)["outputs"])) for record in example_records()]
    assert [e["outputs"] for e in read] == [e["outputs"] for e in stored["evaluations"]] == expected
    assert output_of("$OTHER") == {"evaluations": [], "next": None}
    assert "Traceback" not in server.stderr()
    assert server.stop() == 0


# Limits -------------------------------------------------------------------------------------


def test_slow_clients_hold_no_worker_and_are_cut_off(tmp_path):
    """With one worker thread, five stalled uploads do not delay anyone; after --timeout they are closed."""
    server = Server(f"sqlite:///{tmp_path / 'kinerja.sqlite'}", tmp_path, "--threads", "1", "--timeout", "2")
    stalled = []
    try:
        for _ in range(5):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=15)
            connection.sendall(
                b"POST /v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100000\r\n\r\n{"policy": '
            )
            stalled.append(connection)
        began = time.monotonic()
        assert server.request("GET", "/v1/health", timeout=10)[0] == 200
        assert time.monotonic() - began < 1.5
        for connection in stalled:
            while connection.recv(4096):  # until the server closes it (a socket timeout fails the test)
                pass
        assert time.monotonic() - began < 12
    finally:
        for connection in stalled:
            connection.close()
        server.kill()
        server.errors.close()
