"""Alembic environment: run by `monitor.store.engine.migrate` with a live connection in its config."""

from alembic import context

from monitor.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
