"""Alerts: spikes on synthetic series, loud mentions, failing sources; stored once, sent once, a burst
in one message, by email and to a Slack-compatible webhook on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from monitor.config import AlertSettings, Config
from monitor.ranking import rank_key
from monitor.store import alerts as alert_store
from monitor.store.collect_state import CollectState, record_failure, record_success
from monitor.surface.alert_delivery import AlertDelivery
from monitor.surface.alerts import (
    FAILING,
    LOUD,
    SPIKE,
    detect_spike,
    failing_sources,
    loud_mentions,
)
from monitor.surface.mail import Mailer
from monitor.surface.spikes import spike_test
from monitor.surface.trends import load_trend
from tests.alerts.conftest import (
    NOW,
    SmtpServer,
    Spec,
    StartServer,
    add_mentions,
    html_part,
    make_config,
    text_part,
)
from tests.factories import hourly_series
from tests.support.http_replay import ReplayServer, Reply

SETTINGS = AlertSettings()
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def run_detector(series: list[int]) -> list[int]:
    """Hours at which a spike alert fires, checking every hour of the second week against the same
    hour on the previous seven days, as the alert job does."""
    fired: list[int] = []
    last: tuple[str, dt.datetime] | None = None  # what the store keeps: the latest spike's key, last seen
    for hour in range(7 * 24, len(series)):
        now = NOW + hour * HOUR
        baseline = [series[hour - 24 * day] for day in range(1, 8)]
        event = detect_spike("acme", series[hour], baseline, SETTINGS, now, last_spike=last)
        if event is not None:
            if last is None or event.key != last[0]:
                fired.append(hour)
            last = (event.key, now)
    return fired


@pytest.mark.parametrize("seed", range(5))
def test_calm_poisson_series_raise_no_spike(seed: int) -> None:
    assert run_detector(hourly_series(seed)) == []


def test_a_spike_in_a_synthetic_series_raises_exactly_one_alert() -> None:
    series = hourly_series(0)
    spike_hour = 10 * 24 + 3  # 3 in the morning: usually ~1 complaint
    series[spike_hour] += 25
    series[spike_hour + 1] += 15  # it goes on into the next hour: the same spike
    assert run_detector(series) == [spike_hour]


def test_the_spike_test_needs_history_and_a_minimum_count() -> None:
    assert spike_test(50, [3], SETTINGS) is None  # one day of history says nothing about "usual"
    test = spike_test(9, [0, 0, 0, 0, 0, 0, 0], SETTINGS)
    assert test is not None and not test.fired  # under spike_min_count = 10
    test = spike_test(10, [0, 0, 0, 0, 0, 0, 0], SETTINGS)
    assert test is not None and test.fired


def test_loud_mentions_are_judged_by_the_shared_priority_now() -> None:
    def row(n: int, reach: int, negative: float = 0.95, label: str = "negative", hours: float = 0.5) -> Any:
        created = NOW - dt.timedelta(hours=hours)
        return {
            "id": n,
            "source": "reddit",
            "author": f"u{n}",
            "text": "t",
            "url": None,
            "created_at": created,
            "author_reach": reach,
            "engagement": None,
            "rating": None,
            "label": label,
            "negative": negative,
            "rank_key": rank_key(negative, created, reach),  # what the inbox sorts by
        }

    rows = [row(1, 10), row(2, 2_000_000), row(3, 5_000_000, label="neutral"), row(4, 2_000_000, hours=40)]
    events = loud_mentions(rows, SETTINGS, NOW)
    assert [event.key for event in events] == ["loud:2"]
    assert events[0].kind == LOUD and events[0].mention_id == 2
    # Said in words, like the inbox: why it is loud, not a bare priority number.
    assert events[0].summary == "Loud unhappy customer on reddit: u2 (2M followers)"
    assert events[0].details["priority"] > SETTINGS.loud_priority


def test_a_failing_source_is_due_after_the_set_time() -> None:
    state = CollectState(
        watch="acme", source="reddit", consecutive_failures=3, last_success_at=NOW, last_error="503"
    )
    [event] = failing_sources([state], SETTINGS, NOW + dt.timedelta(minutes=10))
    assert event.kind == FAILING and event.due_at == NOW + dt.timedelta(minutes=60)
    assert failing_sources([CollectState(watch="acme", source="reddit")], SETTINGS, NOW) == []


# Through the store (exactly once on PostgreSQL too), to a real SMTP server and a webhook on loopback.


@pytest.fixture
def hook() -> Iterator[ReplayServer]:
    server = ReplayServer()
    server.route("POST", "/hook", Reply.text("ok"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def alert_config(server: SmtpServer, hook: ReplayServer | None = None, **alerts: Any) -> Config:
    table: dict[str, Any] = {"recipients": ["oncall@example.com"], "source_failing_minutes": 60}
    if hook is not None:
        table["webhook_url"] = f"{hook.url}/hook"
    table.update(alerts)
    return make_config(smtp=server.smtp_table(), alerts=table)


def alerting(config: Config, engine: Engine, server: SmtpServer, client: httpx.Client) -> AlertDelivery:
    mailer = Mailer(server.settings(), sleep=lambda _s: None)
    return AlertDelivery(config, engine, mailer=mailer, http=client, clock=lambda: NOW)


def add_series(engine: Engine, per_day: list[int], current: int) -> None:
    """`per_day[n-1]` negative mentions in the hour before NOW - n days, `current` in the last hour."""
    specs: list[Spec] = []
    number = 0
    for day, count in enumerate([current, *per_day]):
        for i in range(count):
            number += 1
            created = NOW - day * DAY - dt.timedelta(minutes=5 + (50 * i) // max(count, 1))
            specs.append(Spec(number, created_at=created, collected_at=created, scored_at=created))
    add_mentions(engine, specs)


@pytest.mark.both_databases
def test_a_spike_in_the_store_is_alerted_once(
    engine: Engine, smtp_server: StartServer, hook: ReplayServer, http_client: httpx.Client
) -> None:
    server = smtp_server()
    alerts = alerting(alert_config(server, hook), engine, server, http_client)
    add_series(engine, [3, 5, 4, 2, 6, 4, 3], current=30)
    report = alerts.check_alerts(NOW)
    assert [event.kind for event in report.new] == [SPIKE]
    assert len(report.sent) == 1 and report.failed == []
    [message] = server.messages
    assert message["Subject"].startswith("Grumble alert: Negative spike on acme: 30 negative mentions")
    assert message["Message-ID"] == report.sent[0]
    [post] = hook.requests_to("/hook")
    assert "Negative spike on acme" in post.json()["text"]
    # Checked again five minutes later, and after the window: the same spike is not news.
    for later in (NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(minutes=30)):
        assert alerts.check_alerts(later).new == []
    assert len(server.messages) == 1 and len(hook.requests_to("/hook")) == 1


@pytest.mark.parametrize(("current", "min_count", "fires"), [(30, 10, True), (5, 10, False), (30, 31, False)])
def test_the_trends_chart_marks_exactly_the_hour_a_spike_alert_fires_for(
    engine: Engine,
    smtp_server: StartServer,
    http_client: httpx.Client,
    current: int,
    min_count: int,
    fires: bool,
) -> None:
    server = smtp_server()
    config = alert_config(server, spike_min_count=min_count)
    add_series(engine, [3, 5, 4, 2, 6, 4, 3], current=current)
    report = alerting(config, engine, server, http_client).check_alerts(NOW)
    assert [event.kind for event in report.new] == ([SPIKE] if fires else [])
    trend = load_trend(engine, ["acme"], "watch", "hour", NOW - 7 * DAY, config.alerts)
    assert len(trend.points) == 7  # the 7:00 hour of each day of the week
    assert [point.time for point in trend.points if point.spike] == ([NOW - HOUR] if fires else [])


def test_a_calm_store_raises_nothing(
    engine: Engine, smtp_server: StartServer, http_client: httpx.Client
) -> None:
    server = smtp_server()
    alerts = alerting(alert_config(server), engine, server, http_client)
    add_series(engine, [3, 5, 4, 2, 6, 4, 3], current=5)
    assert alerts.check_alerts(NOW).new == []
    assert server.messages == []


def test_a_burst_of_events_is_one_message_and_one_post(
    engine: Engine, smtp_server: StartServer, hook: ReplayServer, http_client: httpx.Client
) -> None:
    server = smtp_server()
    alerts = alerting(alert_config(server, hook), engine, server, http_client)
    hostile = "<!channel> <script>alert(1)</script> <http://evil.example|click>"
    ids = add_mentions(
        engine,
        [Spec(n, negative=0.97, author_reach=3_000_000, text=f"{hostile} #{n}") for n in range(1, 4)]
        + [Spec(9, negative=0.97, author_reach=3_000_000, triage="handled")],
    )
    record_success(engine, "acme", "reddit", at=NOW - 3 * HOUR)
    record_failure(engine, "acme", "reddit", "reddit: 503", NOW, at=NOW - HOUR)
    report = alerts.check_alerts(NOW)
    assert sorted(event.kind for event in report.new) == [LOUD, LOUD, LOUD, FAILING]
    [message] = server.messages
    assert message["Subject"] == "Grumble: 4 alerts (loud unhappy customer, source failing)"
    text, html = text_part(message), html_part(message)
    for mention_id in ids[:3]:
        assert f"https://grumble.example/mention?id={mention_id}" in text
    assert f"mention?id={ids[3]}" not in text  # someone handled it already
    assert "Source reddit failing for watch acme" in text and "reddit: 503" in text
    assert "<script" not in html and "&lt;script&gt;" in html
    [post] = hook.requests_to("/hook")
    payload = post.json()
    assert payload["text"].startswith("Grumble: 4 alerts")
    assert "<!channel>" not in payload["text"] and "&lt;!channel&gt;" in payload["text"]
    assert "<http://evil.example|click>" not in payload["text"]
    assert len(payload["blocks"]) == 4
    assert alerts.check_alerts(NOW + dt.timedelta(minutes=5)).new == []
    assert len(server.messages) == 1 and len(hook.requests_to("/hook")) == 1


def test_a_failing_source_is_alerted_after_the_set_time_not_before(
    engine: Engine, smtp_server: StartServer, http_client: httpx.Client
) -> None:
    server = smtp_server()
    alerts = alerting(alert_config(server), engine, server, http_client)
    record_success(engine, "acme", "mastodon", at=NOW)
    record_failure(engine, "acme", "mastodon", "timeout", NOW, at=NOW + dt.timedelta(minutes=15))
    assert alerts.check_alerts(NOW + dt.timedelta(minutes=30)).sent == []
    assert alerts.check_alerts(NOW + dt.timedelta(minutes=59)).sent == []
    assert server.messages == []
    report = alerts.check_alerts(NOW + dt.timedelta(minutes=61))
    assert len(report.sent) == 1
    assert "Source mastodon failing" in server.messages[0]["Subject"]
    assert alerts.check_alerts(NOW + dt.timedelta(minutes=90)).sent == []
    assert len(server.messages) == 1

    # A source that never worked: due that long after it was first seen failing; one that recovers
    # before then is never alerted.
    record_failure(engine, "acme", "bluesky", "401", NOW, at=NOW + dt.timedelta(minutes=95))
    assert alerts.check_alerts(NOW + dt.timedelta(minutes=100)).sent == []
    record_failure(engine, "rival", "rss", "404", NOW, at=NOW + dt.timedelta(minutes=95))
    assert alerts.check_alerts(NOW + dt.timedelta(minutes=101)).sent == []
    record_success(engine, "rival", "rss", at=NOW + dt.timedelta(minutes=110))
    report = alerts.check_alerts(NOW + dt.timedelta(minutes=161))
    assert len(report.sent) == 1
    assert "Source bluesky failing" in server.messages[-1]["Subject"]
    assert not any("rss" in event.summary for event in alert_store.all_events(engine))


@pytest.mark.both_databases
def test_a_failed_webhook_is_retried_without_sending_the_email_again(
    engine: Engine, smtp_server: StartServer, http_client: httpx.Client
) -> None:
    server = smtp_server()
    hook = ReplayServer()
    try:
        hook.route("POST", "/hook", Reply(status=500, body="boom"), Reply.text("ok"))
        alerts = alerting(alert_config(server, hook), engine, server, http_client)
        add_mentions(engine, [Spec(1, negative=0.97, author_reach=3_000_000)])
        report = alerts.check_alerts(NOW)
        assert report.sent == [] and len(report.failed) == 1
        assert "the alert webhook at 127.0.0.1" in str(report.failed[0][1])
        assert "answered 500" in str(report.failed[0][1])
        assert len(server.messages) == 1
        # The first retry waits a jittered minute: more than half of it, at most all of it.
        [waiting] = alert_store.all_events(engine)
        assert waiting.next_attempt_at is not None
        assert NOW + dt.timedelta(seconds=30) < waiting.next_attempt_at <= NOW + dt.timedelta(minutes=1)
        assert alerts.check_alerts(NOW + dt.timedelta(seconds=30)).sent == []  # backoff
        later = alerts.check_alerts(NOW + dt.timedelta(minutes=1))
        assert later.sent == [report.failed[0][0]] and later.new == []
        assert len(server.messages) == 1 and len(hook.requests_to("/hook")) == 2
        [event] = alert_store.all_events(engine)
        assert event.sent_at is not None and event.webhook_sent_at is not None and event.attempts == 2
    finally:
        hook.close()


def test_dry_run_records_and_sends_nothing(
    engine: Engine, smtp_server: StartServer, http_client: httpx.Client
) -> None:
    server = smtp_server()
    alerts = alerting(alert_config(server), engine, server, http_client)
    add_mentions(engine, [Spec(1, negative=0.97, author_reach=3_000_000)])
    report = alerts.check_alerts(NOW, dry_run=True)
    assert [event.kind for event in report.new] == [LOUD]
    assert alert_store.all_events(engine) == [] and server.messages == []


def test_a_channel_configured_later_is_not_sent_old_alerts(
    engine: Engine, smtp_server: StartServer, hook: ReplayServer, http_client: httpx.Client
) -> None:
    server = smtp_server()
    add_mentions(engine, [Spec(1, negative=0.97, author_reach=3_000_000)])
    webhook_only = alert_config(server, hook, recipients=[])
    assert len(alerting(webhook_only, engine, server, http_client).check_alerts(NOW).sent) == 1
    both = alert_config(server, hook)
    later = alerting(both, engine, server, http_client).check_alerts(NOW + dt.timedelta(minutes=5))
    assert later.sent == [] and later.new == []
    assert server.messages == [] and len(hook.requests_to("/hook")) == 1
