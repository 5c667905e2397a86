"""Fixtures shared by every test: a tiny real model, and databases.

Workflows run on SQLite. The storage contract (tests marked `both_databases`: the store, migrations,
and the claims and crash recovery that rest on the database's constraints, transactions and
compare-and-set updates) runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.support.http_replay import replay_server

__all__ = ["replay_server"]  # a fixture: a real HTTP server on loopback that replays and records

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT classifier, loaded by tests through the real model code path."""
    from models.training.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> Any:
    from models import SentimentModel

    return SentimentModel.load(tiny_model_dir)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server from the pgserver wheel, for the whole session.

    Its data lives outside pytest's base temp folder: pytest prunes old base folders, and a second
    pytest run at the same time would otherwise delete a live server's data."""
    from pgserver import get_server  # type: ignore[attr-defined]

    data = Path(tempfile.mkdtemp(prefix="grumble-pg-"))
    server = get_server(data, cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(data, ignore_errors=True)


def _admin_engine(uri: str) -> Engine:
    return create_engine(uri.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")


DATABASES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_databases") is None:
        return
    if "database_url" not in metafunc.fixturenames:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid} is marked both_databases but uses no database "
            "(the database_url or engine fixture)"
        )
    metafunc.parametrize("database_url", DATABASES, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: SQLite, or each of DATABASES for a `both_databases` test."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'grumble.db'}"
        return
    server_uri: str = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server_uri)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server_uri.replace("/postgres?", f"/{name}?")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session: a test's store starts as a copy of it (migrating a new
    file each time cost a fifth of a second, minutes over the suite). `database_url` stays empty, for
    the tests of migrating itself."""
    from monitor.store.engine import connect

    path = tmp_path_factory.mktemp("migrated") / "grumble.db"
    connect(f"sqlite:///{path}").dispose()
    return path


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _start_as_copy(path: Path, migrated: Path) -> None:
    if not path.exists():
        shutil.copyfile(migrated, path)


@pytest.fixture
def engine(database_url: str, migrated_sqlite: Path) -> Iterator[Engine]:
    from monitor.store.engine import connect

    path = _sqlite_path(database_url)
    if path is not None:
        _start_as_copy(path, migrated_sqlite)
    engine = connect(database_url)  # still migrates: a no-op on the copy, the whole chain on PostgreSQL
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Engine]:
    from monitor.store.engine import connect

    path = tmp_path / "grumble.db"
    _start_as_copy(path, migrated_sqlite)
    engine = connect(f"sqlite:///{path}")
    yield engine
    engine.dispose()
