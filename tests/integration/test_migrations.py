"""The migrations build exactly the schema the code declares, on both databases, and can be undone."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect

from monitor.store.cases import find_case
from monitor.store.engine import MIGRATIONS, migrate
from monitor.store.schema import cases, mentions, metadata

pytestmark = pytest.mark.both_databases


def not_the_queues(name: str | None, kind: str, _parents: object) -> bool:
    return not (
        kind == "table" and name is not None and name.startswith(("procrastinate_", "grumble_queue_"))
    )


def test_migrated_database_matches_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        # The job queue's tables are procrastinate's (migration 0011 applies its schema), not declared here.
        context = MigrationContext.configure(connection, opts={"include_name": not_the_queues})
        differences = compare_metadata(context, metadata)
    # SQLite reports server defaults and some types loosely; tables, columns and indexes must match.
    structural = [
        d
        for d in differences
        if isinstance(d, tuple)
        and d[0] in ("add_table", "remove_table", "add_column", "remove_column", "add_index", "remove_index")
    ]
    assert structural == []


def test_downgrade_to_nothing_and_up_again(engine: Engine) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not inspect(engine).has_table("mentions")
    migrate(engine)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_cases_opened_before_0008_keep_their_clock_and_get_their_real_opening_time(engine: Engine) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    collected = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    opened = collected + timedelta(days=3)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
        # Core inserts name only the columns given, all of which exist at 0007.
        mention_id = connection.execute(
            insert(mentions).values(
                source="reddit",
                external_id="t3_old",
                text="it broke",
                created_at=collected,
                collected_at=collected,
            )
        ).inserted_primary_key[0]
        connection.execute(
            insert(cases).values(
                mention_id=mention_id,
                status="new",
                tags=[],
                opened_at=collected,
                created_at=opened,
                updated_at=opened,
            )
        )
    migrate(engine)
    case = find_case(engine, mention_id)
    assert case is not None
    assert (case.opened_at, case.clock_from) == (opened, collected)
