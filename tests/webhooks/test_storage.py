"""The webhook storage contract, on SQLite and PostgreSQL: each event recorded once however often its row
is read, a delivery leased by one holder at a time, a dead holder's lease broken, the cursor's overlap
finding a row committed late, the delivery log and its retention; an endpoint's health (SQLite)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from monitor.store import leases
from monitor.store import webhook_deliveries as store
from monitor.store import webhook_outbox as outbox
from monitor.store.schema import webhook_deliveries, webhook_events
from monitor.webhooks.events import record_new_events
from tests.webhooks.support import negative_mention

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SUBSCRIBERS = {"mention.negative": ["a", "b"]}
PUBLIC_URL = "https://grumble.example"
# A live holder (this process; on PostgreSQL a holder is also live only with a session of its own).
HOLDER = leases.this_process()


def _record(engine: Engine, now: datetime) -> int:
    with engine.begin() as connection:
        made, _more = record_new_events(connection, SUBSCRIBERS, now, PUBLIC_URL)
    return made


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


@pytest.mark.both_databases
def test_events_are_recorded_once_and_a_late_commit_inside_the_overlap_is_found(engine: Engine) -> None:
    assert _record(engine, NOW) == 0
    negative_mention(engine, 1, NOW + timedelta(seconds=10))
    assert _record(engine, NOW + timedelta(seconds=20)) == 2  # one delivery per subscribed endpoint
    assert _record(engine, NOW + timedelta(seconds=30)) == 0
    # A writer that stamped its row before the cursor's position and committed after: found.
    negative_mention(engine, 2, NOW + timedelta(seconds=5))
    assert _record(engine, NOW + timedelta(seconds=40)) == 2
    with engine.begin() as connection:
        # The same events offered again (two processes at once): kept once, no new deliveries.
        stored = connection.scalar(select(webhook_events.c.origin_id).order_by(webhook_events.c.id).limit(1))
        again = outbox.NewEvent("msg_x", "mention.negative", outbox.MENTIONS, int(stored or 0), NOW, "{}")
        assert outbox.record(connection, [again], SUBSCRIBERS, NOW) == 0
    assert _count(engine, webhook_events) == 2 and _count(engine, webhook_deliveries) == 4


@pytest.mark.both_databases
def test_a_delivery_is_leased_by_one_holder_until_it_ends(engine: Engine) -> None:
    _record(engine, NOW)
    negative_mention(engine, 1, NOW + timedelta(seconds=1))
    negative_mention(engine, 2, NOW + timedelta(seconds=2))
    _record(engine, NOW + timedelta(seconds=3))
    now, until = NOW + timedelta(minutes=1), NOW + timedelta(minutes=10)

    first = store.lease_due(engine, "a", now, until, HOLDER, limit=1)
    assert len(first) == 1 and first[0].msg_id.startswith("msg_")
    # A second lease gets only what the first does not hold; then nothing.
    second = store.lease_due(engine, "a", now, until, HOLDER, limit=10)
    assert [leased.id for leased in second] != [first[0].id] and len(second) == 1
    assert store.lease_due(engine, "a", now, until, HOLDER, limit=10) == []
    # Endpoint b's deliveries are its own.
    assert len(store.lease_due(engine, "b", now, until, HOLDER, limit=10)) == 2

    # After the leases' end (a holder that never came back), they are taken again: same ids.
    later = store.lease_due(engine, "a", until, until + timedelta(minutes=10), HOLDER, limit=10)
    assert {leased.msg_id for leased in later} == {first[0].msg_id, second[0].msg_id}

    failed = store.Outcome(later[0].id, until, 500, "HTTP 500: down", 12)
    delivered = store.Outcome(later[1].id, until, 204, None, 3)
    store.record_outcomes(engine, "a", [failed, delivered], retry_at=until + timedelta(minutes=1))
    assert store.lease_due(engine, "a", until, until, HOLDER, limit=10) == []
    [retried] = store.lease_due(engine, "a", until + timedelta(minutes=1), until, HOLDER, limit=10)
    assert retried.msg_id == later[0].msg_id and retried.attempts == 1

    log = store.attempt_log(engine, "a")
    assert [(entry.status_code, entry.error) for entry in log] == [(204, None), (500, "HTTP 500: down")]
    counts = store.counts(engine, since=NOW)
    assert counts["a"] == {"pending": 1, "delivered": 1, "failed": 1}


@pytest.mark.both_databases
def test_a_dead_holders_lease_is_broken_at_once(engine: Engine) -> None:
    _record(engine, NOW)
    negative_mention(engine, 1, NOW + timedelta(seconds=1))
    _record(engine, NOW + timedelta(seconds=2))
    now = NOW + timedelta(minutes=1)
    # A holder on this machine whose process is gone (no such pid).
    dead = f"{socket.gethostname()}:999999999"
    [taken] = store.lease_due(engine, "a", now, now + timedelta(hours=1), dead, limit=5)
    [again] = store.lease_due(engine, "a", now, now + timedelta(hours=1), HOLDER, limit=5)
    assert again.id == taken.id and again.msg_id == taken.msg_id


def test_endpoint_state_failing_disabled_enabled(engine: Engine) -> None:
    first = store.mark_failure(engine, "a", NOW, "HTTP 500")
    later = store.mark_failure(engine, "a", NOW + timedelta(hours=1), "HTTP 502")
    assert first.failing_since == later.failing_since == NOW and later.last_error == "HTTP 502"
    assert store.disable(engine, "a", NOW + timedelta(days=1), "failing")
    assert not store.disable(engine, "a", NOW + timedelta(days=1), "failing")
    assert store.endpoint_states(engine)["a"].disabled_reason == "failing"
    assert store.enable(engine, "a") and not store.enable(engine, "a")
    store.mark_success(engine, "a", NOW + timedelta(days=2))
    state = store.endpoint_states(engine)["a"]
    assert state.failing_since is None and state.disabled_at is None


@pytest.mark.both_databases
def test_old_delivered_events_are_forgotten_with_their_log_and_undelivered_ones_kept(engine: Engine) -> None:
    _record(engine, NOW)
    negative_mention(engine, 1, NOW + timedelta(seconds=1))
    negative_mention(engine, 2, NOW + timedelta(seconds=2))
    _record(engine, NOW + timedelta(seconds=3))
    now = NOW + timedelta(minutes=1)
    leased = {
        endpoint: store.lease_due(engine, endpoint, now, now + timedelta(minutes=10), HOLDER, limit=5)
        for endpoint in ("a", "b")
    }
    # Both endpoints have the first event; only a has the second.
    for endpoint, batch in (("a", leased["a"]), ("b", leased["b"][:1])):
        store.record_outcomes(engine, endpoint, [store.Outcome(d.id, now, 204, None, 1) for d in batch], now)
    assert store.prune(engine, before=NOW) == 0  # not old enough
    assert store.prune(engine, before=now + timedelta(days=1)) == 1
    with engine.connect() as connection:
        [kept] = connection.scalars(select(webhook_events.c.msg_id))
    assert kept == leased["b"][1].msg_id
    # The forgotten event's attempts went with it; the kept one's stay in the log.
    assert [entry.msg_id for entry in store.attempt_log(engine, "a")] == [kept]
    assert store.attempt_log(engine, "b") == []
