"""Scale-out: the job queue's tables (procrastinate's schema), on PostgreSQL only.

`grumble worker` takes its jobs from procrastinate's tables; SQLite runs everything in one process and
needs none. The schema is the one shipped with the installed procrastinate (pinned <4 in
pyproject.toml); a later procrastinate that changes it comes with its own migration here, which
applies procrastinate's migration files in order.

Revision ID: 0011
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # The driver's own cursor: the schema is many statements of PL/pgSQL, with colons and percent signs
    # that SQLAlchemy or psycopg's parameter parsing would take for placeholders. It runs inside the
    # migration's transaction, under its lock, like every other revision.
    with bind.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(SchemaManager.get_schema())
    # procrastinate knows a worker by a number; this says which process it is, for `grumble status`,
    # and goes with the worker's row when procrastinate prunes a dead one.
    op.execute(
        "CREATE TABLE grumble_queue_workers ("
        " worker_id bigint PRIMARY KEY REFERENCES procrastinate_workers(id) ON DELETE CASCADE,"
        " name varchar(160) NOT NULL,"
        " started_at timestamptz NOT NULL DEFAULT now())"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Jobs still queued are lost with their tables: downgrade only with the workers stopped.
    op.execute("DROP TABLE IF EXISTS grumble_queue_workers")
    for table in ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP TABLE IF EXISTS procrastinate_workers CASCADE")
    op.execute(
        "DO $$ DECLARE f regprocedure; BEGIN "
        "FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'procrastinate%' LOOP "
        "EXECUTE 'DROP FUNCTION IF EXISTS ' || f || ' CASCADE'; END LOOP; END $$"
    )
    for kind in ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status"):
        op.execute(f"DROP TYPE IF EXISTS {kind} CASCADE")
