"""A store with mentions on a case, and a team of configured users who act on them and are told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.config import Config, parse_config
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.alerts.conftest import smtp_server, tls_files
from tests.factories import mention

__all__ = ["smtp_server", "tls_files"]  # fixtures: a real SMTP server on loopback

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=10)  # when the fan-out runs: every event is settled by then

# dana and rick answer; sam and alex approve; rick has no email address.
TEAM = [
    {"name": "dana", "role": "responder", "email": "dana@example.com"},
    {"name": "rick", "role": "responder"},
    {"name": "sam", "role": "admin", "email": "sam@example.com"},
    {"name": "alex", "role": "admin", "email": "alex@example.com"},
]
HASH = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="


def user(name: str) -> User:
    found = next(u for u in TEAM if u["name"] == name)
    return User(found["name"], found["role"], HASH, found.get("email"))


def team_config(smtp_port: int | None = None, **sections: Any) -> Config:
    data: dict[str, Any] = {
        "watches": [{"name": "acme"}],
        "dashboard": {"public_url": "https://grumble.example"},
        "users": [{**u, "password_hash": HASH} for u in TEAM],
        "responder": {"approval_roles": ["responder"]},
    }
    if smtp_port is not None:
        data["smtp"] = {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from_address": "grumble@example.com",
            "max_attempts": 1,
        }
    data.update(sections)
    return parse_config(data, None, {})


@dataclass
class TeamStore:
    engine: Engine
    ids: list[int]


def seed(engine: Engine, count: int = 2) -> TeamStore:
    import_mentions(
        engine,
        "acme",
        [
            mention(n, text=f"acme lost my parcel, number {n}", author=f"customer{n}")
            for n in range(1, count + 1)
        ],
    )
    ids = sorted(row["id"] for row in iter_all(engine, MentionFilter()))
    return TeamStore(engine, ids)


@pytest.fixture
def team(engine: Engine) -> TeamStore:
    return seed(engine)
