"""Workers that vanish stay visible, and each process says which config it runs (PostgreSQL only).

- grumble_queue_workers no longer goes with procrastinate's worker row: when a worker is pruned (its
  heartbeat lapsed), a trigger marks its name row `vanished_at` with its last heartbeat, so
  `grumble status` shows it as missing rather than forgetting it. A worker that stops cleanly deletes
  its own name row; a missing one is forgotten a week after it vanished.
- `config_hash`: the fingerprint of the config each worker runs (monitor/queue/drift.py), and
  grumble_queue_scheduler the elected scheduler's, so status and /metrics can name the workers that
  run another config than the scheduler's.

Revision ID: 0019
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE grumble_queue_workers"
        " DROP CONSTRAINT IF EXISTS grumble_queue_workers_worker_id_fkey,"
        " ADD COLUMN config_hash varchar(32),"
        " ADD COLUMN last_heartbeat timestamptz,"
        " ADD COLUMN vanished_at timestamptz"
    )
    op.execute(
        "CREATE FUNCTION grumble_worker_vanished() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        " UPDATE grumble_queue_workers SET vanished_at = now(), last_heartbeat = OLD.last_heartbeat"
        " WHERE worker_id = OLD.id;"
        " RETURN OLD;"
        " END; $$"
    )
    op.execute(
        "CREATE TRIGGER grumble_worker_vanished AFTER DELETE ON procrastinate_workers"
        " FOR EACH ROW EXECUTE FUNCTION grumble_worker_vanished()"
    )
    op.execute(
        "CREATE TABLE grumble_queue_scheduler ("
        " holder varchar(160) PRIMARY KEY,"
        " config_hash varchar(32) NOT NULL,"
        " elected_at timestamptz NOT NULL DEFAULT now())"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS grumble_queue_scheduler")
    op.execute("DROP TRIGGER IF EXISTS grumble_worker_vanished ON procrastinate_workers")
    op.execute("DROP FUNCTION IF EXISTS grumble_worker_vanished()")
    op.execute("DELETE FROM grumble_queue_workers WHERE vanished_at IS NOT NULL")
    op.execute(
        "DELETE FROM grumble_queue_workers n"
        " WHERE NOT EXISTS (SELECT 1 FROM procrastinate_workers w WHERE w.id = n.worker_id)"
    )
    op.execute(
        "ALTER TABLE grumble_queue_workers"
        " DROP COLUMN vanished_at, DROP COLUMN last_heartbeat, DROP COLUMN config_hash,"
        " ADD CONSTRAINT grumble_queue_workers_worker_id_fkey FOREIGN KEY (worker_id)"
        " REFERENCES procrastinate_workers(id) ON DELETE CASCADE"
    )
