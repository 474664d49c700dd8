"""Persistence through SQLAlchemy 2: SQLite by default (one file, WAL), PostgreSQL in production.

Tables: policy versions by content hash (immutable once stored), submissions, one evaluation
per record, API keys (only a hash of each key) and an append-only audit log. JSON documents are
stored as text written by engine.evaluate.io, so numbers keep their exact decimal form (the database's
own JSON types would go through binary floats). The schema is created and upgraded by Alembic
migrations (engine/migrations), applied when a store is opened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from engine.evaluate.records import MAX_ID_LENGTH

#: The embedded default: a SQLite file in the working directory.
DEFAULT_URL = "sqlite:///kinerja.sqlite"

# Column lengths, named once: the service refuses longer text before it reaches a database
# (PostgreSQL would answer with an error). Migrations keep their own literals, as history.
ID_LENGTH = 32  # submission and evaluation ids (uuid hex)
AGENCY_LENGTH = 64
POLICY_ID_LENGTH = 64
PERIOD_LENGTH = 32
RECORD_ID_LENGTH = MAX_ID_LENGTH
IDEMPOTENCY_KEY_LENGTH = 200
USERNAME_LENGTH = 30  # the audit log's actor is "u:" + username, in its 32 characters
FILENAME_LENGTH = 200


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class PolicyVersion(Base):
    """A policy exactly as used for an evaluation: never changed once stored."""

    __tablename__ = "policy_versions"
    hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)  # the merged policy, canonical JSON
    stored_at: Mapped[datetime]
    # Published through the service (POST /v1/policies), with the text as sent (migration 0002):
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    berlaku_mulai: Mapped[str | None] = mapped_column(String(10))
    berlaku_sampai: Mapped[str | None] = mapped_column(String(10))
    text: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(32))


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the key's public part
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the whole key
    role: Mapped[str] = mapped_column(String(16))  # agency | reviewer | admin
    agency: Mapped[str | None] = mapped_column(String(AGENCY_LENGTH))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("agency", "idempotency_key", name="uq_submission_idempotency"),)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    agency: Mapped[str] = mapped_column(String(AGENCY_LENGTH), index=True)
    policy_id: Mapped[str] = mapped_column(String(POLICY_ID_LENGTH))
    policy_hash: Mapped[str] = mapped_column(ForeignKey("policy_versions.hash"))
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    record_count: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the request body
    response: Mapped[str] = mapped_column(Text)  # the first response, returned again on a retry
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (Index("ix_evaluations_filters", "agency", "policy_id", "period", "record_id"),)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # index of the record in its submission
    agency: Mapped[str] = mapped_column(String(AGENCY_LENGTH))
    policy_id: Mapped[str] = mapped_column(String(POLICY_ID_LENGTH))
    policy_hash: Mapped[str] = mapped_column(ForeignKey("policy_versions.hash"))
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    record_id: Mapped[str | None] = mapped_column(String(RECORD_ID_LENGTH))
    inputs: Mapped[str] = mapped_column(Text)
    outputs: Mapped[str] = mapped_column(Text)
    values: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Commit order (migration 0003): assigned by next_sequence inside the storing transaction.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)


#: The order evaluations were committed in: pages, replays and impact runs all follow it.
STORED_ORDER = (Evaluation.seq,)
#: The PostgreSQL advisory lock that orders the commits of evaluations (any fixed number).
SEQUENCE_LOCK = 0x6B696E65


def next_sequence(session: Session, count: int) -> int:
    """The first of `count` sequence numbers for evaluations stored by this transaction.

    Numbers follow commit order, so a reader that has seen number N will never later find a
    new row below N: on PostgreSQL a transaction-scoped advisory lock is held from here until
    commit, so the next transaction reads the maximum only after this one committed; on SQLite
    the transaction already holds the database's single write lock (call this after a write).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCE_LOCK})
    return (session.scalar(select(func.coalesce(func.max(Evaluation.seq), 0))) or 0) + 1


class AuditEntry(Base):
    """Who wrote what, when. Rows are only ever added."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(32))  # key id, or "cli" for local commands
    role: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text, default="")


class User(Base):
    """A person who signs in to the web (migration 0004). Only an argon2 hash of the password is kept;
    a disabled user is kept (the audit log names them) but cannot sign in."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # agency | reviewer | admin
    agency: Mapped[str | None] = mapped_column(String(AGENCY_LENGTH))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class Upload(Base):
    """A spreadsheet an agency user uploaded and previewed, kept until sent (migration 0004). Its id is
    the one-time token of the preview page's Kirim button and, prefixed, the submission's
    idempotency key, so a double click, a refresh or a second tab stores it once."""

    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    agency: Mapped[str] = mapped_column(String(AGENCY_LENGTH))
    policy_id: Mapped[str] = mapped_column(String(POLICY_ID_LENGTH))
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    filename: Mapped[str] = mapped_column(String(FILENAME_LENGTH))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    units: Mapped[str | None] = mapped_column(Text)  # the units file read, as JSON (engine.evaluate.io)
    created_at: Mapped[datetime]
    submission_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))  # set once sent


class SubmissionUnits(Base):
    """The unit kerja a submission's employees belong to, as sent with it (migration 0004): what
    the results page filters by and checks the kurva distribusi of. Written once, never changed."""

    __tablename__ = "submission_units"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    units: Mapped[str] = mapped_column(Text)  # [{id, name, attributes, members}] as JSON


class Setting(Base):
    """Values the service generates once and keeps (migration 0004): the web's session key."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


#: Size of SQLite's write-ahead log above which a write is followed by a checkpoint that resets
#: it. SQLite's own automatic checkpoint never resets the log while readers keep using it, so
#: under continuous reads the file would grow without bound.
WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024
#: What SQLite keeps of the log's file after a reset.
WAL_KEEP_BYTES = 4 * 1024 * 1024


@dataclass
class Store:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    wal_limit: int = WAL_CHECKPOINT_BYTES

    def session(self) -> Session:
        return self.sessions()

    def after_write(self) -> None:
        """Keep SQLite's log bounded: past `wal_limit`, checkpoint it and start it again from the
        beginning (TRUNCATE waits, within busy_timeout, for readers of the old log to finish)."""
        path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not path or path == ":memory:":
            return
        try:
            size = os.path.getsize(path + "-wal")
        except OSError:
            return
        if size > self.wal_limit:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def dispose(self) -> None:
        self.engine.dispose()


def database_url(explicit: str | None = None) -> str:
    """--db, else KINERJA_DB, else the embedded SQLite file."""
    return explicit or os.environ.get("KINERJA_DB") or DEFAULT_URL


def open_store(url: str | None = None, migrate: bool = True) -> Store:
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if migrate:
        upgrade(engine)
    return Store(url, engine, sessionmaker(engine, expire_on_commit=False))


def _sqlite_pragmas(connection, _record) -> None:
    # The sqlite3 driver starts a transaction at the first write, not at SQLAlchemy's begin. That
    # is kept on purpose: a transaction that read first and writes after another writer committed
    # fails at once (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry), and a submission
    # reads before it writes. One consequence: a savepoint opened before any write commits on its
    # own; the only one (engine.service._keep_policy_version) stores an immutable, hash-keyed row.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
    cursor.close()


def upgrade(engine: Engine) -> None:
    """Apply the Alembic migrations up to the newest, in one place for CLI, server and tests."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
