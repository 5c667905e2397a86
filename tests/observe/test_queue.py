"""Queue depth, workers and the scoring backlog, read from the database at scrape time: on a real
PostgreSQL with procrastinate's own schema, on one without it, on SQLite, and with no database at all."""

from __future__ import annotations

import logging

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from prometheus_client import CollectorRegistry
from sqlalchemy import Connection, Engine, text

from monitor.observe.queue import QueueCollector
from monitor.store.engine import MIGRATIONS, open_engine
from monitor.store.mentions import import_mentions, save_scores
from tests.factories import BASE_TIME, mention

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
BACKLOG = ("grumble_mentions_unscored", ())

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def scraped(collector: QueueCollector) -> Samples:
    registry = CollectorRegistry()
    registry.register(collector)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
    }


def drop_queue_schema(engine: Engine) -> None:
    """A PostgreSQL whose queue is gone (migrated back below 0011): the collector must not fail."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")


def add_worker(connection: Connection, seconds_since_heartbeat: int) -> int:
    query = text(
        "INSERT INTO procrastinate_workers (last_heartbeat)"
        " VALUES (now() - make_interval(secs => :seconds)) RETURNING id"
    )
    return int(connection.execute(query, {"seconds": seconds_since_heartbeat}).scalar_one())


def add_jobs(connection: Connection, status: str, count: int = 1, worker_id: int | None = None) -> None:
    query = text(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, status, worker_id)"
        " VALUES ('default', 'collect', CAST(:status AS procrastinate_job_status), :worker)"
    )
    connection.execute(query, [{"status": status, "worker": worker_id}] * count)


@on_postgresql
def test_jobs_by_status_stalled_jobs_and_workers_by_heartbeat(engine: Engine) -> None:
    with engine.begin() as connection:
        live = add_worker(connection, seconds_since_heartbeat=2)
        silent = add_worker(connection, seconds_since_heartbeat=120)
        add_jobs(connection, "todo", 3)
        add_jobs(connection, "doing", 2, worker_id=live)
        add_jobs(connection, "doing", 1, worker_id=silent)  # its worker stopped beating: stalled
        add_jobs(connection, "doing", 1, worker_id=None)  # its worker was pruned: stalled too
        add_jobs(connection, "succeeded", 4)
        add_jobs(connection, "failed", 2)
        # A worker taken for dead and pruned (the trigger of migration 0019 marks it vanished), and
        # the live one on another config than the elected scheduler's.
        pruned = add_worker(connection, seconds_since_heartbeat=300)
        names = "INSERT INTO grumble_queue_workers (worker_id, name, config_hash) VALUES (:id, :name, :hash)"
        connection.execute(text(names), [{"id": live, "name": "a:1", "hash": "old"}])
        connection.execute(text(names), [{"id": pruned, "name": "b:2", "hash": "new"}])
        connection.execute(text("DELETE FROM procrastinate_workers WHERE id = :id"), {"id": pruned})
        connection.execute(text("INSERT INTO grumble_queue_scheduler VALUES ('c:3', 'new')"))
    import_mentions(engine, "acme", [mention(1), mention(2)])
    assert scraped(QueueCollector(engine, stalled_after_seconds=30)) == {
        BACKLOG: 2,
        # Finished jobs are not in the queue any more (grumble_jobs_total counts them).
        ("grumble_queue_jobs", (("status", "doing"),)): 4,
        ("grumble_queue_jobs", (("status", "todo"),)): 3,
        ("grumble_queue_stalled_jobs", ()): 2,
        ("grumble_workers", (("state", "live"),)): 1,
        ("grumble_workers", (("state", "stalled"),)): 1,
        ("grumble_workers", (("state", "missing"),)): 1,
        ("grumble_workers_config_drift", ()): 1,
    }
    # A longer patience: the silent worker is live again, and only the orphaned job is stalled.
    patient = scraped(QueueCollector(engine, stalled_after_seconds=600))
    assert patient[("grumble_queue_stalled_jobs", ())] == 1
    assert patient[("grumble_workers", (("state", "live"),))] == 2
    # An empty queue still reports both statuses, at zero: an alert on them has a series from the start.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"))
    idle = scraped(QueueCollector(engine))
    assert idle[("grumble_queue_jobs", (("status", "todo"),))] == 0
    assert idle[("grumble_queue_jobs", (("status", "doing"),))] == 0


@on_postgresql
def test_postgresql_without_the_queue_reports_only_the_backlog(engine: Engine) -> None:
    import_mentions(engine, "acme", [mention(1)])
    drop_queue_schema(engine)
    assert scraped(QueueCollector(engine)) == {BACKLOG: 1}


def test_sqlite_has_no_queue_only_the_backlog(sqlite_engine: Engine) -> None:
    assert scraped(QueueCollector(sqlite_engine)) == {BACKLOG: 0}


@pytest.mark.both_databases
def test_the_backlog_counts_mentions_waiting_for_a_first_score(engine: Engine) -> None:
    import_mentions(engine, "acme", [mention(1), mention(2), mention(3)])
    with engine.connect() as connection:
        first = connection.execute(text("SELECT min(id) FROM mentions")).scalar_one()
    save_scores(engine, [{"id": first, "label": "neutral", "model_version": "v1", "scored_at": BASE_TIME}])
    assert scraped(QueueCollector(engine))[BACKLOG] == 2


def test_a_database_that_cannot_be_reached_leaves_the_scrape_without_them_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    collector = QueueCollector(
        open_engine("postgresql://grumble:s3cret@127.0.0.1:1/grumble?connect_timeout=2")
    )
    with caplog.at_level(logging.WARNING, logger="monitor.observe.queue"):
        assert scraped(collector) == {}
        assert scraped(collector) == {}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot read the queue" in warnings[0] and "s3cret" not in warnings[0]
