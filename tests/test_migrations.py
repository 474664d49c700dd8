"""Migration 0003 numbers the evaluations already stored in their old order (created_at,
submission, position), on SQLite and PostgreSQL, so cursors keep their meaning after upgrading."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

import engine.service.store as store_module


def upgrade_to(engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.mark.store_tampered  # hand-made rows, not real evaluations: nothing to replay
def test_0003_numbers_stored_evaluations_in_their_old_order(db_url):
    engine = create_engine(db_url)
    try:
        upgrade_to(engine, "0002")
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO policy_versions (hash, policy_id, version, document, stored_at, published) "
                    "VALUES ('h', 'p', '1', '{}', '2024-01-01 00:00:00+00', false)"
                )
            )
            for sub, at in (("s2", "2024-01-02 00:00:00+00"), ("s1", "2024-01-01 00:00:00+00")):
                c.execute(
                    text(
                        "INSERT INTO submissions (id, agency, policy_id, policy_hash, period, record_count, "
                        "request_hash, response, created_by, created_at) VALUES "
                        "(:id, 'a', 'p', 'h', '2024', 2, 'x', '{}', 'k', :at)"
                    ),
                    {"id": sub, "at": at},
                )
                for position in (1, 0):
                    c.execute(
                        text(
                            "INSERT INTO evaluations (id, submission_id, position, agency, policy_id, "
                            'policy_hash, period, inputs, outputs, "values", created_at) VALUES '
                            "(:id, :sub, :pos, 'a', 'p', 'h', '2024', '{}', '{}', '{}', :at)"
                        ),
                        {"id": f"{sub}-{position}", "sub": sub, "pos": position, "at": at},
                    )
        upgrade_to(engine, "head")
        with engine.connect() as c:
            ordered = [row[0] for row in c.execute(text("SELECT id FROM evaluations ORDER BY seq"))]
        assert ordered == ["s1-0", "s1-1", "s2-0", "s2-1"]
    finally:
        engine.dispose()
