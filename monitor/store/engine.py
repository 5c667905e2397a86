"""Open the database named by a URL and bring its schema up to date."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from monitor.errors import ConfigError, StoreError
from monitor.store.leases import application_name

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_MIGRATION_WAIT_MS = 120_000  # how long a process waits for another's migration of the same file


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL (readers never block the collector) and a busy timeout."""
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we install; SQLAlchemy's default for plain postgresql:// is psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
            event.listen(engine, "do_connect", _name_session)
    except (ArgumentError, ImportError, SQLAlchemyError, ValueError) as exc:
        # A URL that cannot be used is a configuration mistake (exit 2), and it may hold a password.
        raise ConfigError(
            f"cannot use database URL {redact_url(url)!r}: {redact_url(str(exc))}; "
            "expected e.g. sqlite:///grumble.db or postgresql://user:password@host:5432/grumble"
        ) from None
    return engine


def dialect_insert(connection: Connection) -> Any:
    """The dialect's INSERT construct, which has ON CONFLICT (core `insert` does not)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"database {dialect!r} is not supported; use SQLite or PostgreSQL")


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def redact_url(text: str) -> str:
    """`text` with the password of any URL in it replaced by ***, even a URL that does not parse."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def _name_session(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    # Read at each connect, not once: a forked child is another process. Other machines read these
    # names to tell a live lease holder from a dead one (store/leases.py).
    params["application_name"] = application_name()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # While another process turns a fresh file to WAL, SQLite can answer "locked" without waiting for the
    # busy timeout: try again for as long as that timeout would have waited.
    for attempt in range(SQLITE_BUSY_TIMEOUT_MS // 100):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == SQLITE_BUSY_TIMEOUT_MS // 100 - 1:
                raise
            time.sleep(0.1)
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Any fixed number: every Grumble process that migrates takes this one PostgreSQL advisory lock.
MIGRATION_LOCK_KEY = 0x6772756D626C65  # "grumble"


def migrate(engine: Engine) -> None:
    """Apply every pending migration. Safe to call at every start, from many processes at once: the
    first takes the database's migration lock and migrates, the others wait for it, then find the
    schema at head and do nothing (without the lock, two processes on a fresh database would both
    create the tables and one would fail)."""
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            _lock_for_migration(connection)
            alembic_config.attributes["connection"] = connection
            try:
                command.upgrade(alembic_config, "head")
            finally:
                if connection.dialect.name == "sqlite":  # back to the usual wait for the pooled connection
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    except OperationalError as exc:
        raise StoreError(f"cannot open or migrate the database at {engine.url!r}: {exc.orig}") from None


def _lock_for_migration(connection: Connection) -> None:
    """Hold the database's migration lock until this transaction ends (commit or rollback).

    PostgreSQL: the transaction-scoped form of pg_advisory_lock, so the lock cannot outlive the
    migration even when it fails; DDL is transactional there, so waiters see all of it or none.
    SQLite: BEGIN IMMEDIATE takes the database's write lock before alembic reads its version (the
    driver would otherwise run the DDL outside any transaction, each statement on its own); a waiter
    blocks for the busy timeout, then reads the version the first one committed."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    elif connection.dialect.name == "sqlite":
        # A fresh database's migration (every revision, on a busy machine) can outlast the usual wait.
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_MIGRATION_WAIT_MS}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def connect(url: str) -> Engine:
    """Open and migrate: what every command does first."""
    engine = open_engine(url)
    migrate(engine)
    return engine


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("mentions")
