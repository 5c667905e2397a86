"""What the webhook tests share: a config with endpoints whose secrets come from a test environment, a
clock the test moves, and the writers that make each kind of event (the same ones the app calls)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from monitor.config import Config, parse_config
from monitor.respond.cases import add_note, assign, open_case
from monitor.store import alerts as alert_store
from monitor.store.edits import mark_deleted
from monitor.store.triage import record_event
from monitor.webhooks.event_types import EVENT_TYPES
from tests.alerts.conftest import Spec, add_mentions

PUBLIC_URL = "https://grumble.example"


def webhook_config(
    database_url: str, endpoints: list[dict[str, Any]], environ: dict[str, str], **webhooks: Any
) -> Config:
    data: dict[str, Any] = {
        "database_url": database_url,
        "watches": [{"name": "acme"}],
        "dashboard": {"public_url": PUBLIC_URL},
        "webhooks": {**webhooks, "endpoints": endpoints},
    }
    return parse_config(data, None, environ)


def endpoint(
    url: str, events: list[str] | None = None, name: str = "helpdesk", **more: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "url": url,
        "events": events or list(EVENT_TYPES),
        "secret_env": "HOOK_SECRET",
        **more,
    }


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


def negative_mention(engine: Engine, n: int, at: datetime) -> int:
    [mention_id] = add_mentions(engine, [Spec(n, scored_at=at, created_at=at - timedelta(hours=1))], now=at)
    return mention_id


def case_events(engine: Engine, mention_id: int, at: datetime) -> None:
    """case.opened, then case.updated twice (assigned; a note added)."""
    case = open_case(engine, mention_id, "dana", Config(path=None).responder, now=at)
    assign(engine, case.id, "sam", "dana", now=at)
    add_note(engine, case.id, "customer is a VIP, call them", "dana", now=at)


def reply_posted(engine: Engine, mention_id: int, at: datetime) -> None:
    """The audit row posting.py writes when a reply is published."""
    with engine.begin() as connection:
        record_event(connection, mention_id, "reply_posted", "posting", "posted", "dana", at)


def deleted_by_author(engine: Engine, external_id: str, at: datetime) -> None:
    with engine.begin() as connection:
        mark_deleted(connection, "test", [external_id], now=at)


def alert_raised(engine: Engine, mention_id: int, at: datetime) -> None:
    with engine.begin() as connection:
        event = alert_store.NewEvent(
            key=f"loud:{mention_id}",
            kind="loud",
            summary="a loud unhappy customer",
            due_at=at,
            mention_id=mention_id,
        )
        alert_store.record_events(connection, [event], at)
        alert_store.claim_due(connection, at, lambda first: f"<alert-{first}@grumble>")
