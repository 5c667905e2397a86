"""The procrastinate App on Grumble's PostgreSQL database, and the locks that keep jobs apart."""

from __future__ import annotations

import procrastinate
from sqlalchemy.engine import make_url

from monitor.errors import ConfigError
from monitor.queue.tasks import blueprint

NAMESPACE = "grumble"


def uses_queue(database_url: str) -> bool:
    """Whether this database can hold the queue: PostgreSQL can, SQLite runs everything in one process."""
    return make_url(database_url).get_backend_name() == "postgresql"


def conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy URL (`postgresql+psycopg://` -> `postgresql://`), for psycopg."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def require_queue(database_url: str, command: str) -> None:
    if not uses_queue(database_url):
        raise ConfigError(
            f"`grumble {command}` takes its jobs from the queue in PostgreSQL, and this database is "
            f"{make_url(database_url).get_backend_name()}; set database_url to a postgresql:// URL, "
            "or run everything in one process with `grumble run`"
        )


def queue_app(database_url: str) -> procrastinate.App:
    """An App (not yet open) whose tasks are Grumble's jobs, named `grumble:<job>`."""
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)
    app.add_tasks_from(blueprint(), namespace=NAMESPACE)
    return app


def task_name(job: str) -> str:
    return f"{NAMESPACE}:{job}"
