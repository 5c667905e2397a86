"""Per (watch, source): the cursor, and the health that `grumble status` and the dashboard show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, select, update

from monitor.mention import utcnow
from monitor.store.schema import collect_state


@dataclass(frozen=True)
class CollectState:
    watch: str
    source: str
    cursor: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_attempt_at: datetime | None = None
    mentions_collected: int = 0
    last_warning: str | None = None

    @property
    def health(self) -> str:
        """'failing', 'degraded' (its last run worked only in part), 'ok', or 'not run'."""
        if self.consecutive_failures:
            return "failing"
        if self.last_warning:
            return "degraded"
        return "ok" if self.last_success_at else "not run"

    @property
    def problem(self) -> str:
        """What is wrong, in the source's words; empty when healthy."""
        if self.consecutive_failures:
            return self.last_error or "unknown error"
        return self.last_warning or ""


def _ensure_row(connection: Connection, watch: str, source: str) -> None:
    exists = connection.scalar(
        select(collect_state.c.watch).where(collect_state.c.watch == watch, collect_state.c.source == source)
    )
    if exists is None:
        connection.execute(
            collect_state.insert().values(
                watch=watch, source=source, consecutive_failures=0, mentions_collected=0
            )
        )


def _where(watch: str, source: str) -> ColumnElement[bool]:
    return (collect_state.c.watch == watch) & (collect_state.c.source == source)


def get_state(engine: Engine, watch: str, source: str) -> CollectState:
    with engine.connect() as connection:
        row = connection.execute(select(collect_state).where(_where(watch, source))).first()
    return CollectState(**row._mapping) if row else CollectState(watch=watch, source=source)


def all_states(engine: Engine) -> list[CollectState]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(collect_state).order_by(collect_state.c.source, collect_state.c.watch)
        )
        return [CollectState(**row._mapping) for row in rows]


def advance_cursor(connection: Connection, watch: str, source: str, cursor: str | None, new: int) -> None:
    """Inside the caller's transaction, so the cursor moves exactly when the page is stored."""
    _ensure_row(connection, watch, source)
    connection.execute(
        update(collect_state)
        .where(_where(watch, source))
        .values(cursor=cursor, mentions_collected=collect_state.c.mentions_collected + new)
    )


def record_attempt(engine: Engine, watch: str, source: str, at: datetime | None = None) -> None:
    with engine.begin() as connection:
        _ensure_row(connection, watch, source)
        connection.execute(
            update(collect_state).where(_where(watch, source)).values(last_attempt_at=at or utcnow())
        )


def record_success(
    engine: Engine, watch: str, source: str, at: datetime | None = None, *, warning: str | None = None
) -> None:
    """`warning`: what failed in a run that still worked (None for a clean run, which clears it)."""
    with engine.begin() as connection:
        _ensure_row(connection, watch, source)
        connection.execute(
            update(collect_state)
            .where(_where(watch, source))
            .values(
                last_success_at=at or utcnow(),
                consecutive_failures=0,
                next_attempt_at=None,
                last_warning=warning[:2000] if warning else None,
            )
        )


def record_failure(
    engine: Engine, watch: str, source: str, error: str, next_attempt_at: datetime, at: datetime | None = None
) -> int:
    """Returns the number of consecutive failures, this one included. The cursor is left as it was."""
    with engine.begin() as connection:
        _ensure_row(connection, watch, source)
        connection.execute(
            update(collect_state)
            .where(_where(watch, source))
            .values(
                last_error_at=at or utcnow(),
                last_error=error[:2000],
                consecutive_failures=collect_state.c.consecutive_failures + 1,
                next_attempt_at=next_attempt_at,
            )
        )
        failures = connection.scalar(
            select(collect_state.c.consecutive_failures).where(_where(watch, source))
        )
    return int(failures or 0)
