"""The server cannot be starved (issue 10, item 3): hostile policy checks run in a budgeted child
process and cannot occupy every thread, each API key has a rate limit, trickling clients are cut
off, `explain: true` has its own record limit and a response's error list is bounded."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from test_serve import Server, call

from engine import service
from engine.evaluate.io import decode_json, encode
from engine.service import sandbox

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")


def pp46(count: int, **changes) -> list[dict]:
    base = [decode_json(line) for line in (EXAMPLES / "pp-46-2011.jsonl").read_bytes().splitlines()]
    found = []
    for number in range(count):
        record = dict(base[number % len(base)], id=f"1990{number:014d}")
        record.update(changes)
        found.append(record)
    return found


def hostile_policy(values: int = 4000) -> str:
    lines = ["kinerja: 1", "id: berat", "inputs:", "  x: {type: number, minimum: 0, maximum: 100}", "values:"]
    lines += [f"  nilai_{k}: nilai_tidak_ada_{k} * x + x" for k in range(values)]
    return "\n".join(lines + ["outputs:", "  nilai_0: {}"]) + "\n"


# The budget of one check ---------------------------------------------------------------------


def test_work_past_its_time_is_stopped():
    began = time.monotonic()
    with pytest.raises(sandbox.OverBudget) as stopped:
        sandbox.run_limited(time.sleep, 30, seconds=1)
    assert stopped.value.what == "time" and time.monotonic() - began < 10


def test_work_past_its_memory_is_stopped():
    with pytest.raises(sandbox.OverBudget) as stopped:
        sandbox.run_limited(bytearray, 2 * 1024**3, memory=512 * 1024**2)
    assert stopped.value.what == "memory"


def test_a_check_answers_through_the_child_process(client):
    _, secret = service.create_key(client.application.extensions["kinerja_store"], "reviewer", None)
    response = client.post(
        "/v1/policies/check",
        data=encode({"policy": hostile_policy(300)}),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert not answer["valid"] and answer["diagnostics"][0]["code"] == "name.unknown"


# Rate limits ---------------------------------------------------------------------------------


def test_each_api_key_has_its_own_rate_limit(tmp_path):
    from server import create_app

    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}", "TESTING": True, "RATE_LIMIT_PER_KEY": "5 per minute"}
    )
    try:
        store = app.extensions["kinerja_store"]
        first, second = (service.create_key(store, "reviewer", None)[1] for _ in range(2))
        client = app.test_client()
        statuses = [
            client.get("/v1/policies", headers={"Authorization": f"Bearer {first}"}).status_code for _ in range(7)
        ]
        assert statuses == [200] * 5 + [429] * 2
        refused = client.get("/v1/policies", headers={"Authorization": f"Bearer {first}"})
        assert refused.mimetype == "application/problem+json" and int(refused.headers["Retry-After"]) > 0
        assert "too many requests with this API key" in refused.get_json()["detail"]
        assert client.get("/v1/policies", headers={"Authorization": f"Bearer {second}"}).status_code == 200
        assert all(client.get("/v1/health").status_code == 200 for _ in range(10))
    finally:
        app.extensions["kinerja_store"].dispose()


def test_rate_limits_can_be_turned_off(tmp_path):
    from server import create_app

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}",
            "RATELIMIT_ENABLED": False,
            "RATE_LIMIT_PER_KEY": "1 per minute",
        }
    )
    try:
        secret = service.create_key(app.extensions["kinerja_store"], "reviewer", None)[1]
        client = app.test_client()
        assert {
            client.get("/v1/policies", headers={"Authorization": f"Bearer {secret}"}).status_code for _ in range(3)
        } == {200}
    finally:
        app.extensions["kinerja_store"].dispose()


# Bounded requests and responses --------------------------------------------------------------


def test_explain_has_its_own_smaller_record_limit(client):
    _, secret = service.create_key(client.application.extensions["kinerja_store"], "reviewer", None)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    records = pp46(service.MAX_EXPLAINED_RECORDS + 1)
    refused = client.post(
        "/v1/policies/pp-46-2011/evaluate", data=encode({"records": records, "explain": True}), headers=headers
    )
    assert refused.status_code == 413
    assert refused.get_json()["errors"][0]["path"] == "/records"
    assert f"at most {service.MAX_EXPLAINED_RECORDS} records per request with explain" in refused.get_json()["detail"]
    plain = client.post("/v1/policies/pp-46-2011/evaluate", data=encode({"records": records}), headers=headers)
    assert plain.status_code == 200 and len(plain.get_json()["results"]) == len(records)


def test_a_submissions_error_list_is_bounded_and_says_so(client):
    _, secret = service.create_key(client.application.extensions["kinerja_store"], "agency", "dinkes")
    records = pp46(700, kreativitas=5, tugas_tambahan=-1)  # two errors each: 1,400 in all
    response = client.post(
        "/v1/submissions",
        data=encode({"policy": "pp-46-2011", "period": "2020", "records": records}),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert len(errors) == service.MAX_RESPONSE_ERRORS + 1
    assert errors[-1] == {
        "path": "",
        "code": "too_many_errors",
        "message": f"and {1400 - service.MAX_RESPONSE_ERRORS} more errors not listed",
    }


# A real server under hostile load --------------------------------------------------------------


def health_latency(port: int) -> float:
    began = time.monotonic()
    status, _ = call(port, "GET", "/v1/health", timeout=10)
    assert status == 200
    return time.monotonic() - began


def test_eight_concurrent_hostile_checks_leave_health_answering(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'kinerja.sqlite'}", tmp_path)
    try:
        body = encode({"policy": hostile_policy()})
        answers: list = []

        def check() -> None:
            answers.append(call(server.port, "POST", "/v1/policies/check", body, server.admin_key, timeout=60)[0])

        hostile = [threading.Thread(target=check) for _ in range(8)]
        for thread in hostile:
            thread.start()
        latencies = []
        while any(thread.is_alive() for thread in hostile):
            latencies.append(health_latency(server.port))
            time.sleep(0.1)
        for thread in hostile:
            thread.join()
        print(
            f"/v1/health under 8 hostile checks: {len(latencies)} requests, "
            f"worst {max(latencies) * 1000:.0f} ms, median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms; "
            f"check answers {sorted(answers)}"
        )
        assert max(latencies) < 1
        assert set(answers) <= {200, 422, 503} and (200 in answers or 422 in answers)
    finally:
        server.kill()
        server.errors.close()


def test_health_answers_while_250_sockets_trickle_their_headers(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'kinerja.sqlite'}", tmp_path, "--header-timeout", "3")
    trickling = []
    try:
        for _ in range(250):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            connection.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            trickling.append(connection)
        began, latencies, closed = time.monotonic(), [], set()
        while time.monotonic() - began < 12 and len(closed) < len(trickling):
            for number, connection in enumerate(trickling):  # one more header byte each, never the end
                if number not in closed:
                    try:
                        connection.sendall(b"X")
                    except OSError:
                        closed.add(number)
            latencies.append(health_latency(server.port))
            time.sleep(0.3)
        print(
            f"/v1/health with 250 trickling sockets: worst {max(latencies) * 1000:.0f} ms over "
            f"{len(latencies)} requests; {len(closed)} trickling sockets closed by the server "
            f"after {time.monotonic() - began:.1f} s"
        )
        assert max(latencies) < 1
        assert len(closed) == len(trickling)  # each was cut off after its header time
    finally:
        for connection in trickling:
            connection.close()
        server.kill()
        server.errors.close()
