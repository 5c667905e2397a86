"""What `/healthz` answers: whether this process can do its work, and if not, why.

A process's health is a few named checks, each None when fine or a reason when not (`Health.of`):
the database for every role, plus what the role adds (the scheduler's lock, the worker's loop), which
the command that starts the process knows and passes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from monitor.store.engine import redact_url


@dataclass(frozen=True)
class Health:
    ok: bool
    role: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, role: str, checks: Mapping[str, str | None]) -> Health:
        """Healthy when every check is None; details name each check, "ok" or its reason."""
        details = {name: problem or "ok" for name, problem in checks.items()}
        return cls(all(problem is None for problem in checks.values()), role, details)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "role": self.role, "details": dict(self.details)}


def database_problem(engine: Engine) -> str | None:
    """None when the database answers a query; else why not (without a password a URL may carry)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"database unreachable: {redact_url(first_line)}"
    return None
