"""Quota counts kept in the database (monitor/sources/quota.py), so every process on it spends one quota.

A count is a row of the `rate_limits` table, the token buckets' table, under the key `quota:<source>:
<key id>`: `tokens` holds the units spent and `updated_at` the start of the window they were spent in.
A row whose window is over counts as zero and is overwritten by the next charge, so a quota is one row
for ever, and needs no table of its own. Each charge is one short transaction on the row, locked like
a bucket's (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so two processes cannot
both be granted a window's last units.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, select, update

from monitor.sources.quota import Charge
from monitor.store.engine import dialect_insert
from monitor.store.schema import rate_limits


class SharedQuotaLedger:
    """A `QuotaLedger` in `engine`'s database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def charge(self, key: str, units: int, allowed: int, window_start: datetime) -> Charge:
        with self.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            row = _locked_row(connection, key)
            if row is None:
                connection.execute(
                    dialect_insert(connection)(rate_limits)
                    .values(key=key, tokens=0.0, updated_at=window_start)
                    .on_conflict_do_nothing(index_elements=["key"])
                )
                row = _locked_row(connection, key)
                assert row is not None, "the quota's row was just inserted"
            # A process whose clock lags may still be in the window another has left: it charges the
            # newer window rather than resetting it.
            window_start = max(window_start, row[1])
            used = _count(row, window_start)
            if used + units > allowed:
                return Charge(False, used)
            connection.execute(
                update(rate_limits)
                .where(rate_limits.c.key == key)
                .values(tokens=float(used + units), updated_at=window_start)
            )
        return Charge(True, used + units)

    def used(self, key: str, window_start: datetime) -> int:
        with self.engine.connect() as connection:
            found = connection.execute(
                select(rate_limits.c.tokens, rate_limits.c.updated_at).where(rate_limits.c.key == key)
            ).first()
        return 0 if found is None else _count((found.tokens, found.updated_at), window_start)


def _locked_row(connection: Connection, key: str) -> tuple[float, datetime] | None:
    query = select(rate_limits.c.tokens, rate_limits.c.updated_at).where(rate_limits.c.key == key)
    found = connection.execute(query.with_for_update()).first()  # SQLite: BEGIN IMMEDIATE locked it
    return None if found is None else (found.tokens, found.updated_at)


def _count(row: tuple[float, datetime], window_start: datetime) -> int:
    spent, counted_from = row
    return round(spent) if counted_from >= window_start else 0
