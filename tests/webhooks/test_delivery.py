"""Webhooks delivered to a real receiver on loopback that verifies every request independently (the
reference library, or hmac by hand where the test drives the clock): each event type, retries under
one id, key rotation, an endpoint disabled after a day of failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from monitor.backoff import Backoff
from monitor.mention import utcnow
from monitor.store import webhook_deliveries as store
from monitor.webhooks.delivery import WebhookDelivery
from monitor.webhooks.event_types import CASE_OPENED, CASE_UPDATED, EVENT_TYPES, MENTION_NEGATIVE
from tests.support.http_replay import ReplayServer
from tests.webhooks.receiver import Receiver, new_secret, signatures
from tests.webhooks.support import (
    Clock,
    alert_raised,
    case_events,
    deleted_by_author,
    endpoint,
    negative_mention,
    reply_posted,
    webhook_config,
)

SECRET, OLD_SECRET = new_secret(1), new_secret(2)
ENVIRON = {"HOOK_SECRET": SECRET, "OLD_HOOK_SECRET": OLD_SECRET}
# The jitter pinned to none: each wait is the nominal one (1, 2, 4 ... minutes, at most an hour).
NO_JITTER = Backoff(base=timedelta(minutes=1), cap=timedelta(hours=1), random=lambda: 0.0)
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def delivery(
    engine: Engine,
    receiver: Receiver,
    http: httpx.Client,
    clock: Clock | None = None,
    **endpoint_options: object,
) -> WebhookDelivery:
    config = webhook_config(str(engine.url), [endpoint(receiver.url, **endpoint_options)], ENVIRON)
    return WebhookDelivery(config, engine, http=http, clock=clock or utcnow, retry=NO_JITTER)


def test_every_event_type_reaches_the_receiver_signed_and_once(
    sqlite_engine: Engine, replay_server: ReplayServer, http: httpx.Client
) -> None:
    receiver = Receiver(replay_server, SECRET)
    webhooks = delivery(sqlite_engine, receiver, http)
    assert webhooks.run().recorded == 0  # the cursors start now: history is not news
    now = utcnow()
    mention_id = negative_mention(sqlite_engine, 1, now)
    case_events(sqlite_engine, mention_id, now)
    reply_posted(sqlite_engine, mention_id, now)
    deleted_by_author(sqlite_engine, "m1", now)
    alert_raised(sqlite_engine, mention_id, now)

    report = webhooks.run()

    assert receiver.refused == []
    assert report.delivered == report.recorded == len(receiver.requests) == 7
    assert sorted(event["type"] for event in receiver.events.values()) == sorted([*EVENT_TYPES, CASE_UPDATED])
    [negative] = receiver.of_type(MENTION_NEGATIVE)
    mention = negative["data"]["mention"]
    assert mention["id"] == mention_id and mention["label"] == "negative"
    assert mention["text"] == "mention 1: acme lost my parcel" and mention["watches"] == ["acme"]
    assert mention["link"] == f"https://grumble.example/mention?id={mention_id}"
    [opened] = receiver.of_type(CASE_OPENED)
    assert opened["data"]["case"]["status"] == "new" and opened["data"]["mention"]["id"] == mention_id
    changes = [event["data"]["change"] for event in receiver.of_type(CASE_UPDATED)]
    assert {(change["action"], change["after"]) for change in changes} == {("assign", "sam"), ("note", None)}
    # An internal note stays internal: the event says one was added, not what it says.
    assert all("VIP" not in request.body.decode() for request in receiver.requests)
    [updated] = receiver.of_type("mention.updated")
    assert updated["data"]["change"]["action"] == "deleted" and updated["data"]["mention"]["deleted_at"]
    [alert] = receiver.of_type("alert.raised")
    assert alert["data"]["alert"]["kind"] == "loud" and alert["data"]["alert"]["mention_id"] == mention_id

    # Nothing new: nothing sent again, however often the job runs.
    assert webhooks.run().delivered == 0 and len(receiver.requests) == 7


def test_only_subscribed_types_and_nothing_from_before_subscribing(
    sqlite_engine: Engine, replay_server: ReplayServer, http: httpx.Client
) -> None:
    receiver = Receiver(replay_server, SECRET)
    only_cases = delivery(sqlite_engine, receiver, http, events=[CASE_OPENED])
    only_cases.run()
    now = utcnow()
    mention_id = negative_mention(sqlite_engine, 1, now)
    only_cases.run()
    assert receiver.requests == []  # the negative mention is not a case.opened
    case_events(sqlite_engine, mention_id, now)
    only_cases.run()
    assert [event["type"] for event in receiver.events.values()] == [CASE_OPENED]
    # Subscribing to mention.negative later does not send the negative from before.
    delivery(sqlite_engine, receiver, http, events=[CASE_OPENED, MENTION_NEGATIVE]).run()
    assert len(receiver.requests) == 1


def test_retries_keep_the_same_id_and_body_with_backoff(
    sqlite_engine: Engine, replay_server: ReplayServer, http: httpx.Client
) -> None:
    clock = Clock(START)
    receiver = Receiver(replay_server, SECRET, clock=clock, failures=[500, 503])
    webhooks = delivery(sqlite_engine, receiver, http, clock)
    webhooks.run()
    negative_mention(sqlite_engine, 1, clock.now)
    negative_mention(sqlite_engine, 2, clock.now)

    first = webhooks.run()
    assert (first.delivered, first.failed) == (0, 1)
    assert len(receiver.requests) == 1  # the second waits with the first: the endpoint just failed
    clock.advance(timedelta(seconds=59))
    assert webhooks.run().failed == 0 and len(receiver.requests) == 1  # not due before a minute
    clock.advance(timedelta(seconds=1))
    assert webhooks.run().failed == 1
    clock.advance(timedelta(minutes=2))
    assert webhooks.run().delivered == 2

    ids = receiver.ids()
    assert len(ids) == 4 and ids[0] == ids[1] == ids[2] != ids[3]
    assert len({request.body for request in receiver.requests[:3]}) == 1
    # Each try is signed for its own moment.
    assert [int(request.headers["webhook-timestamp"]) for request in receiver.requests[:3]] == [
        int(START.timestamp()),
        int((START + timedelta(minutes=1)).timestamp()),
        int((START + timedelta(minutes=3)).timestamp()),
    ]
    assert list(receiver.events) == [ids[0], ids[3]]
    log = store.attempt_log(sqlite_engine, "helpdesk")
    assert [(entry.msg_id, entry.status_code) for entry in reversed(log)] == [
        (ids[0], 500),
        (ids[0], 503),
        (ids[0], 204),
        (ids[3], 204),
    ]
    assert "HTTP 503" in (log[2].error or "")
    assert store.endpoint_states(sqlite_engine)["helpdesk"].failing_since is None


def test_during_a_key_rotation_a_receiver_with_either_secret_accepts(
    sqlite_engine: Engine, replay_server: ReplayServer, http: httpx.Client
) -> None:
    old_receiver = Receiver(replay_server, OLD_SECRET)
    webhooks = delivery(sqlite_engine, old_receiver, http, previous_secret_env="OLD_HOOK_SECRET")
    webhooks.run()
    negative_mention(sqlite_engine, 1, utcnow())
    webhooks.run()
    old_receiver.secret = SECRET  # the receiver switches to the new secret
    negative_mention(sqlite_engine, 2, utcnow())
    webhooks.run()
    assert old_receiver.refused == [] and len(old_receiver.events) == 2
    assert all(len(signatures(request)) == 2 for request in old_receiver.requests)
    # Once the previous secret is dropped from the config, only the new one signs.
    old_receiver.secret = OLD_SECRET
    negative_mention(sqlite_engine, 3, utcnow())
    delivery(sqlite_engine, old_receiver, http).run()
    assert old_receiver.refused == ["No matching signature found"]


def test_an_endpoint_failing_for_a_day_is_disabled_then_enabled_again(
    sqlite_engine: Engine, replay_server: ReplayServer, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(START)
    receiver = Receiver(replay_server, SECRET, clock=clock, failures=[502] * 1000)
    webhooks = delivery(sqlite_engine, receiver, http, clock)
    webhooks.run()
    negative_mention(sqlite_engine, 1, clock.now)
    disabled: list[str] = []
    with caplog.at_level(logging.ERROR, logger="monitor.webhooks.delivery"):
        while not disabled and clock.now < START + timedelta(days=2):
            disabled = webhooks.run().disabled
            clock.advance(timedelta(minutes=61))
    assert disabled == ["helpdesk"]
    state = store.endpoint_states(sqlite_engine)["helpdesk"]
    assert state.disabled_at is not None and state.disabled_at - START >= timedelta(days=1)
    assert "failing since 2026-11-02 08:00 UTC" in (state.disabled_reason or "")
    assert "HTTP 502" in (state.disabled_reason or "")
    assert "webhook endpoint helpdesk" in caplog.text and "disabled" in caplog.text
    assert len(receiver.requests) == len(store.attempt_log(sqlite_engine, "helpdesk", limit=1000))

    # Disabled: nothing is sent, and new events are not queued for it.
    tried = len(receiver.requests)
    negative_mention(sqlite_engine, 2, clock.now)
    clock.advance(timedelta(hours=2))
    assert webhooks.run().recorded == 0 and len(receiver.requests) == tried

    receiver.failures.clear()
    assert store.enable(sqlite_engine, "helpdesk")
    report = webhooks.run()
    assert report.delivered == 1 and len(receiver.events) == 1  # the one kept pending, not the one missed
    assert store.endpoint_states(sqlite_engine)["helpdesk"].disabled_at is None
