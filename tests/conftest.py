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
    return yaml.dump(
        document, Dumper=_PlainDumper, sort_keys=False, width=100_000, allow_unicode=True, default_flow_style=False
    )


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
            done = subprocess.run(
                [sys.executable, "-m", "engine.cli", *map(str, args)],
                input=stdin or b"",
                capture_output=True,
                timeout=timeout,
                cwd=ROOT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"kinerja {' '.join(map(str, args))} did not finish within {timeout} s (a hang)")
        return (done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))

    return run


#: DOMAIN.md's worked pp-46-2011 example: (TO 1, RO 1, TK 100, RK 90, TW 12, RW 12) gives
#: 100, 90, 76 -> 88.6667; perilaku 80 -> nilai prestasi kerja 0.6 x 88.6667 + 0.4 x 80 = 85.2, Baik.
PP46_RECORD = {
    "id": "199001012020011001",
    "kegiatan": [
        {
            "kuantitas": {"target": 1, "realisasi": 1},
            "kualitas": {"target": 100, "realisasi": 90},
            "waktu": {"target": 12, "realisasi": 12},
        },
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


# Markers (registered in pyproject.toml). `db` and `browser` follow from the fixtures a test uses,
# directly or through another fixture, so a new test cannot forget them; so does `slow` for a test
# that runs the command in a child process. The tests below are slow by what they do (every bundled
# policy, generated data, exhaustive comparisons, a server under load): they are named here, each
# module's names checked against the module, and a run lists any other test over SLOW_SECONDS.
# `pytest -m "not db and not browser and not slow"` is the fast set a developer runs while working.
_DB_FIXTURES = frozenset({"db_url"})  # app, client and every site fixture are built on it
_BROWSER_FIXTURES = frozenset({"browser"})  # headless Chromium through Playwright
_SLOW_FIXTURES = frozenset({"run_kinerja"})  # a child interpreter per call
SLOW_SECONDS = 2.0
ALL = "*"
#: marker -> test module -> the test functions it marks (every parametrisation), or ALL.
MARKED: dict[str, dict[str, str | frozenset[str]]] = {
    "browser": {
        "test_render.py": frozenset({"test_the_rulebook_in_headless_chromium"}),
    },
    "slow": {
        "test_bench.py": ALL,
        "test_check_scale.py": ALL,
        "test_fuzz.py": ALL,
        "test_fast_paths.py": ALL,  # compares each fast path with its reference on every shipped file and mutants
        "test_columns.py": ALL,  # subprocesses, Parquet files and a Dask cluster
        "test_no_surprise.py": ALL,
        "test_panduan.py": ALL,
        "test_policies.py": ALL,
        "test_readme.py": ALL,
        "test_serve.py": ALL,
        "test_server_budget.py": ALL,
        "test_versions.py": ALL,
        "test_authoring.py": frozenset(
            {
                "test_init_writes_a_regional_policy_that_checks_and_tests_green",
                "test_init_copies_the_parts_a_region_changes",
                "test_every_shipped_policy_file_validates_as_written",
                "test_init_never_overwrites_and_refuses_a_bad_id",
            }
        ),
        "test_bounds.py": frozenset(
            {
                "test_the_bundled_policies_stay_within_the_bounds",
                "test_a_squaring_chain_is_refused_at_the_value_that_passes_the_limit",
            }
        ),
        "test_check_cli.py": frozenset({"test_check_is_silent_on_the_shipped_policies"}),
        "test_cli.py": frozenset(
            {"test_check_of_every_shipped_policy_is_silent", "test_policies_lists_pp_46_2011_without_errors"}
        ),
        "test_diff.py": frozenset(
            {
                "test_per_unit_counts_and_verdicts_match_a_direct_evaluation_under_both",
                "test_cli_diff_reports_units_and_refuses_units_without_data",
                "test_the_impact_on_300_records_matches_a_direct_evaluation_under_both",
            }
        ),
        "test_exact.py": frozenset({"test_hypothesis_two_decimal_records_match_the_fraction_reference"}),
        "test_examples.py": frozenset(
            {
                "test_good_example_records_all_evaluate",
                "test_regional_example_data_shows_every_predikat_and_belongs_to_units",
                "test_bad_example_records_are_each_located",
            }
        ),
        "test_fast.py": frozenset(
            {
                "test_fast_equals_exact_on_generated_records",
                "test_pp46_fast_exact_and_plain_fractions_agree",
                "test_parallel_workers_write_the_same_file_in_order",
                "test_random_policies_fast_and_exact_agree",
                "test_every_bundled_policy_compiles_to_the_fast_kernel",
                "test_fast_and_exact_agree_on_each_policys_cases_and_example_data",
            }
        ),
        "test_faults.py": frozenset({"test_the_sqlite_log_stays_bounded_under_continuous_reads"}),
        "test_grammar.py": frozenset({"test_grammar_builds_in_strict_mode"}),
        "test_hostile.py": frozenset(
            {
                "test_a_bad_record_is_an_error_at_its_pointer_and_the_others_are_evaluated",
                "test_deeply_nested_yaml_is_refused",
            }
        ),
        "test_messages.py": frozenset({"test_every_message_has_an_indonesian_text"}),
        "test_national_rules.py": frozenset({"test_every_regional_child_takes_bulan"}),
        "test_raters.py": frozenset(
            {
                "test_the_example_data_holds_one_lenient_superior_each",
                "test_a_rater_rule_naming_an_unknown_input_is_an_error",
                "test_results_are_refused_because_the_raters_are_inputs",
                "test_a_lenient_superior_is_named_with_the_numbers",
                "test_no_superior_far_above_exits_0_and_speaks_indonesian",
            }
        ),
        "test_records.py": frozenset({"test_reader_agrees_with_the_published_schema"}),
        "test_render.py": frozenset(
            {
                "test_unreached_rows_and_failing_cases_are_listed",
                "test_history_shows_the_one_changed_threshold",
                "test_matrix_and_weights_are_grids",
            }
        ),
        "test_openapi.py": frozenset({"test_the_documents_examples_succeed", "test_the_document_is_valid_openapi_3_1"}),
        "test_sheets.py": frozenset(
            {
                "test_template_round_trip_equals_kinerja_eval",
                "test_template_with_records_evaluates_as_the_records",
                "test_template_speaks_indonesian_and_checks_enums",
            }
        ),
        "test_whatif.py": frozenset(
            {
                "test_decimals_move_by_the_places_the_value_has_and_integers_by_one",
                "test_serang_changes_are_verified_by_evaluation",
                "test_a_change_inside_a_narrow_band_of_a_non_monotone_input_is_found",
            }
        ),
        "test_workbench.py": frozenset(
            {
                "test_a_changed_weight_gives_a_child_with_only_that_change",
                "test_a_table_bound_and_a_matrix_cell_change_in_place",
            }
        ),
    },
}


def _named(marker: str, item) -> bool:
    """Whether MARKED names this test for the marker. A name its module does not define (a test
    renamed or removed) stops the run, so the table cannot silently mark less."""
    listed = MARKED[marker].get(item.path.name)
    if listed is None:
        return False
    if listed == ALL:
        return True
    unknown = sorted(name for name in listed if not hasattr(item.module, name))
    if unknown:
        raise pytest.UsageError(
            f"tests/conftest.py marks {marker} tests that {item.path.name} does not define: {', '.join(unknown)}"
        )
    return getattr(item, "originalname", item.name) in listed


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & _DB_FIXTURES:
            item.add_marker(pytest.mark.db)
        if used & _BROWSER_FIXTURES or _named("browser", item):
            item.add_marker(pytest.mark.browser)
        if used & _SLOW_FIXTURES or _named("slow", item):
            item.add_marker(pytest.mark.slow)


_UNMARKED_SLOW: list[tuple[float, str]] = []


def pytest_runtest_logreport(report):
    marked = {"slow", "db", "browser"} & set(report.keywords)
    if report.when == "call" and report.duration > SLOW_SECONDS and not marked:
        _UNMARKED_SLOW.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter):
    if _UNMARKED_SLOW:
        terminalreporter.section(f"over {SLOW_SECONDS:g} s without a marker (add them to MARKED in tests/conftest.py)")
        for seconds, nodeid in sorted(_UNMARKED_SLOW, reverse=True):
            terminalreporter.write_line(f"{seconds:6.2f}s {nodeid}")


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
        shown = "\n".join(
            f"{r.evaluation_id}: " + "; ".join(d.render() for d in r.differences[:3]) for r in differing[:5]
        )
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
        message = (
            f"PostgreSQL does not answer at 127.0.0.1:5432 ({_POSTGRES_PROBLEM[0]}); start it, "
            "or set KINERJA_SKIP_POSTGRES=1 to run the SQLite half only"
        )
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
