"""The migrations build exactly the schema the code declares, on both databases, and can be undone."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from monitor.store.engine import MIGRATIONS, migrate
from monitor.store.schema import metadata


def test_migrated_database_matches_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
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
