"""Open the database named by a URL and bring its schema up to date."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from monitor.errors import ConfigError, StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Apply every pending migration. Safe to call at every start."""
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            alembic_config.attributes["connection"] = connection
            command.upgrade(alembic_config, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot open or migrate the database at {engine.url!r}: {exc.orig}") from None


def connect(url: str) -> Engine:
    """Open and migrate: what every command does first."""
    engine = open_engine(url)
    migrate(engine)
    return engine


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("mentions")
