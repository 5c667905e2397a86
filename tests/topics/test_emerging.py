"""The emerging-topic alert: once on a burst (mail and webhook, through the alert machinery), never on
a calm series."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from monitor.surface.alert_delivery import AlertDelivery
from monitor.surface.mail import Mailer
from monitor.topics.assign import assign_new
from monitor.topics.emerging import EMERGING
from monitor.topics.refit import refit_watch
from tests.alerts.conftest import (
    NOW,
    SmtpServer,
    Spec,
    StartServer,
    add_mentions,
    make_config,
    smtp_server,
    tls_files,
)
from tests.support.http_replay import ReplayServer, Reply
from tests.topics.conftest import WATCH, WordEmbedder, add_corpus, complaint

__all__ = ["smtp_server", "tls_files"]  # fixtures

DAY = dt.timedelta(days=1)
FITTED = NOW - 10 * DAY


@pytest.fixture
def hook() -> Iterator[ReplayServer]:
    server = ReplayServer()
    server.route("POST", "/hook", Reply.text("ok"))
    try:
        yield server
    finally:
        server.close()


def spread(engine: Engine, embedder: WordEmbedder, reason: str, per_day: list[int], start: int) -> None:
    """`per_day[d]` complaints about `reason` in day d before NOW (d=0: the last day), spread over
    the day's hours (no hourly spike), each joining its nearest topic as the scoring job has it do."""
    rng = random.Random(start)
    specs, n = [], start
    for day, count in enumerate(per_day):
        for i in range(count):
            n += 1
            created = NOW - day * DAY - dt.timedelta(hours=1 + (22 * i) // max(count, 1))
            specs.append(Spec(n, text=complaint(reason, rng), created_at=created, scored_at=created))
    assign_new(engine, lambda: embedder, add_mentions(engine, specs), now=NOW)


def delivery(
    engine: Engine, server: StartServer, hook: ReplayServer, client: httpx.Client
) -> tuple[AlertDelivery, SmtpServer]:
    smtp = server()
    config = make_config(
        smtp=smtp.smtp_table(),
        alerts={"recipients": ["oncall@example.com"], "webhook_url": f"{hook.url}/hook"},
        watches=[{"name": "acme", "keywords": ["acme"]}],
    )
    alerts = AlertDelivery(
        config, engine, mailer=Mailer(smtp.settings(), sleep=lambda _s: None), http=client, clock=lambda: NOW
    )
    return alerts, smtp


def fitted(engine: Engine, embedder: WordEmbedder) -> None:
    add_corpus(engine, created_at=FITTED - DAY)
    refit_watch(engine, embedder, WATCH, now=FITTED)


def test_a_burst_in_one_topic_is_alerted_once_by_mail_and_webhook(
    sqlite_engine: Engine, embedder: WordEmbedder, smtp_server: StartServer, hook: ReplayServer
) -> None:
    fitted(sqlite_engine, embedder)
    spread(sqlite_engine, embedder, "refund", [2, 1, 2, 1, 2, 1, 2, 1], start=5000)  # calm
    spread(sqlite_engine, embedder, "login", [24, 1, 0, 1, 0, 1, 1, 0], start=6000)  # a burst in the last day
    with httpx.Client(timeout=10) as client:
        alerts, smtp = delivery(sqlite_engine, smtp_server, hook, client)
        report = alerts.check_alerts(NOW)
        assert [event.kind for event in report.new] == [EMERGING]
        [event] = report.new
        assert event.details["count"] == 24 and event.details["new"] is False
        assert set(" ".join(event.details["name"].split(" · ")).split()) & {"login", "password", "locked"}
        assert len(event.details["examples"]) == 3
        for later in (NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(hours=6)):
            assert alerts.check_alerts(later).new == []
    [message] = smtp.messages
    assert message["Subject"].startswith("Grumble alert: Emerging complaint topic on acme")
    [post] = hook.requests_to("/hook")
    assert "Emerging complaint topic" in post.json()["text"]


def test_a_calm_series_raises_no_emerging_topic(
    sqlite_engine: Engine, embedder: WordEmbedder, smtp_server: StartServer, hook: ReplayServer
) -> None:
    fitted(sqlite_engine, embedder)
    for offset, reason in enumerate(("refund", "login", "delivery")):
        spread(sqlite_engine, embedder, reason, [3, 4, 3, 5, 4, 3, 4, 3], start=5000 + 1000 * offset)
    # A refit after the calm week finds nothing new to alert either.
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW - dt.timedelta(minutes=1))
    with httpx.Client(timeout=10) as client:
        alerts, smtp = delivery(sqlite_engine, smtp_server, hook, client)
        assert alerts.check_alerts(NOW).new == []
    assert smtp.messages == []
