"""What SQLite and PostgreSQL do differently, met in one place so the tables (schema.py) read the same on
both: aware UTC datetimes in and out, and the one index clause SQLite refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@compiles(CreateIndex, "sqlite")
def _sqlite_index(create: CreateIndex, compiler: Any, **kw: Any) -> str:
    # SQLite keeps NULL below every value, so DESC is already NULLS LAST there, and it refuses the words
    # in an index.
    return str(compiler.visit_create_index(create, **kw)).replace(" NULLS LAST", "")
