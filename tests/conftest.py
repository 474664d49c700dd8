"""Shared fixtures: writing policy files, running the `kinerja` command, pp-46-2011 records.

Everything here goes through the public interfaces (engine.api, engine.cli.main, the policy
files); nothing reaches into the engine's internals.
"""
from __future__ import annotations

import copy
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from engine import cli

ROOT = Path(__file__).resolve().parent.parent


class _PlainDumper(yaml.SafeDumper):
    """Writes policies the way an author would: no anchors or aliases (the engine refuses them)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _decimal(dumper: yaml.SafeDumper, value: Decimal):
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value, "f"))


_PlainDumper.add_representer(Decimal, _decimal)


def policy_yaml(document: dict) -> str:
    """A policy document as YAML text (block style, keys in the order given, nothing folded)."""
    return yaml.dump(document, Dumper=_PlainDumper, sort_keys=False, width=100_000, allow_unicode=True,
                     default_flow_style=False)


@pytest.fixture
def english(monkeypatch):
    """Messages in English (KINERJA_LANG=en, which subprocesses inherit too): for tests whose
    assertions read English texts. Indonesian is the default; tests of the default do not use this."""
    monkeypatch.setenv("KINERJA_LANG", "en")


@pytest.fixture
def indonesian(monkeypatch):
    """The default language, whatever the environment running the tests says."""
    monkeypatch.delenv("KINERJA_LANG", raising=False)


@pytest.fixture
def write_policy(tmp_path):
    """write_policy(text_or_dict, name="policy.yaml") -> the file's path."""

    def write(content, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else policy_yaml(content)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_cli():
    """run_cli(*args, stdin=None) -> (exit code, stdout, stderr), running `kinerja` in-process.

    Standard streams are text wrappers over byte buffers, because `kinerja eval` reads and
    writes the binary `.buffer` of stdin and stdout.
    """

    def run(*args, stdin: str | bytes | None = None) -> tuple[int, str, str]:
        data = stdin.encode("utf-8") if isinstance(stdin, str) else (stdin or b"")
        fake_in = io.TextIOWrapper(io.BufferedReader(io.BytesIO(data)), encoding="utf-8")
        fake_out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
        fake_err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "stdin", fake_in)
            patch.setattr(sys, "stdout", fake_out)
            patch.setattr(sys, "stderr", fake_err)
            try:
                code = cli.main([str(a) for a in args])
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 2
            fake_out.flush()
            fake_err.flush()
        return code, fake_out.buffer.getvalue().decode("utf-8"), fake_err.buffer.getvalue().decode("utf-8")

    return run


@pytest.fixture
def run_kinerja():
    """run_kinerja(*args, stdin=None, timeout=20) -> (exit code, stdout, stderr) in a child process.

    For hostile input that might hang or exhaust the interpreter: a hang fails the test
    instead of stopping the suite.
    """

    def run(*args, stdin: bytes | None = None, timeout: float = 20) -> tuple[int, str, str]:
        try:
            done = subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], input=stdin or b"",
                                  capture_output=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"kinerja {' '.join(map(str, args))} did not finish within {timeout} s (a hang)")
        return (done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))

    return run


#: DOMAIN.md's worked pp-46-2011 example: (TO 1, RO 1, TK 100, RK 90, TW 12, RW 12) gives
#: 100, 90, 76 -> 88.6667; perilaku 80 -> nilai prestasi kerja 0.6 x 88.6667 + 0.4 x 80 = 85.2, Baik.
PP46_RECORD = {
    "id": "199001012020011001",
    "kegiatan": [
        {"kuantitas": {"target": 1, "realisasi": 1},
         "kualitas": {"target": 100, "realisasi": 90},
         "waktu": {"target": 12, "realisasi": 12}},
    ],
    "tugas_tambahan": 0,
    "kreativitas": 0,
    "perilaku": {"orientasi_pelayanan": 80, "integritas": 80, "komitmen": 80, "disiplin": 80, "kerja_sama": 80},
}


@pytest.fixture
def pp46_record():
    """pp46_record(**changes) -> a fresh copy of the worked example, top-level keys replaced."""

    def make(**changes) -> dict:
        record = copy.deepcopy(PP46_RECORD)
        record.update(copy.deepcopy(changes))
        return record

    return make


# Databases: every test that takes `db_url` runs once on SQLite and once on the real PostgreSQL
# at 127.0.0.1:5432 (user postgres, trust), each time in a database of its own, dropped after.
# Before it is dropped, every evaluation stored in it is replayed (PRODUCT.md, Auditable: replaying
# an evaluation gives the same result), so each test of the service also tests replay.
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def pytest_configure(config):
    config.addinivalue_line("markers", "store_tampered: the test changes stored evaluations on purpose, "
                                       "so its database is not replayed at the end")


def replay_everything(url: str) -> None:
    """Fail unless every evaluation stored at `url` replays exactly under its stored policy version."""
    from sqlalchemy import inspect

    from engine.service.replay import replay_stored
    from engine.service.store import open_store
    store = open_store(url, migrate=False)
    try:
        if "evaluations" not in inspect(store.engine).get_table_names():
            return
        differing = [report for report in replay_stored(store) if not report.same]
    finally:
        store.dispose()
    if differing:
        shown = "\n".join(f"{r.evaluation_id}: " + "; ".join(d.render() for d in r.differences[:3])
                          for r in differing[:5])
        pytest.fail(f"{len(differing)} stored evaluation(s) do not replay identically:\n{shown}", pytrace=False)


_POSTGRES_PROBLEM: list[str] = []


def _require_postgres() -> None:
    """Skip, saying why, when no PostgreSQL answers at 127.0.0.1:5432; in CI (CI=true), fail instead,
    so a machine without the database can run the rest while CI never silently tests less."""
    import os

    import psycopg
    if not _POSTGRES_PROBLEM:
        try:
            psycopg.connect(POSTGRES_ADMIN, connect_timeout=3).close()
            _POSTGRES_PROBLEM.append("")
        except psycopg.OperationalError as error:
            _POSTGRES_PROBLEM.append(str(error).strip().splitlines()[0])
    if _POSTGRES_PROBLEM[0]:
        message = (f"PostgreSQL does not answer at 127.0.0.1:5432 ({_POSTGRES_PROBLEM[0]}); start it, "
                   "or set KINERJA_SKIP_POSTGRES=1 to run the SQLite half only")
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    replayed = request.node.get_closest_marker("store_tampered") is None
    if request.param == "sqlite":
        path = tmp_path / "kinerja.sqlite"
        yield f"sqlite:///{path}"
        if replayed and path.exists():
            replay_everything(f"sqlite:///{path}")
        return
    import os
    import secrets

    import psycopg
    if os.environ.get("KINERJA_SKIP_POSTGRES") == "1":
        pytest.skip("KINERJA_SKIP_POSTGRES=1")
    _require_postgres()
    name = f"kinerja_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        if replayed:
            replay_everything(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(db_url):
    """The Flask service on a fresh database of each kind (db_url)."""
    from server import create_app
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    yield app
    app.extensions["kinerja_store"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()
