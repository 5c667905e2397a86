"""The storage contract the hand-off rests on, on SQLite and PostgreSQL: one link per mention and
helpdesk whoever inserts it, compare-and-set claims, the lookup by remote id, the retry queue, and a
delivery key kept once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.store.helpdesk_links import (
    due_links,
    get_link,
    insert_link,
    link_by_remote,
    links_for_mention,
    recent_deliveries,
    record_delivery,
    set_delivery_outcome,
    set_link_if,
)
from tests.helpdesk.conftest import seed

pytestmark = pytest.mark.both_databases


def _values(mention_id: int, helpdesk: str, marker: str) -> dict[str, object]:
    now = utcnow()
    return {
        "mention_id": mention_id,
        "helpdesk": helpdesk,
        "marker": marker,
        "state": "sending",
        "attempts": 1,
        "claimed_at": now,
        "requested_by": "rick",
        "created_at": now,
        "updated_at": now,
    }


def test_one_link_per_mention_and_helpdesk_and_claims_by_compare_and_set(engine: Engine) -> None:
    mention_id = seed(engine).ids["appstore"]
    now = utcnow()
    with engine.begin() as connection:
        assert insert_link(connection, _values(mention_id, "chatwoot", "grumble01"))
        assert not insert_link(connection, _values(mention_id, "chatwoot", "grumble02"))
        assert insert_link(connection, _values(mention_id, "zammad", "grumble03"))
        link = get_link(connection, mention_id, "chatwoot")
        assert link is not None and link.marker == "grumble01"
        # Two claims of the same attempt: one wins.
        assert set_link_if(
            connection, link.id, ("sending",), at_attempt=1, state="unconfirmed", next_attempt_at=now
        )
        assert not set_link_if(connection, link.id, ("sending",), at_attempt=1, state="failed")
        assert set_link_if(
            connection, link.id, ("unconfirmed",), state="sent", remote_id="500", remote_url="u"
        )
        found = link_by_remote(connection, "chatwoot", "500")
        assert found is not None and found.mention_id == mention_id and found.sent
        assert link_by_remote(connection, "zammad", "500") is None
    assert [link.helpdesk for link in links_for_mention(engine, mention_id)] == ["chatwoot", "zammad"]


def test_due_links_are_those_past_their_backoff_or_lease(engine: Engine) -> None:
    ids = seed(engine).ids
    now = utcnow()
    with engine.begin() as connection:
        for key, helpdesk in (("appstore", "chatwoot"), ("reddit", "chatwoot"), ("mastodon", "chatwoot")):
            insert_link(connection, _values(ids[key], helpdesk, f"grumble{key}"))
        waiting = get_link(connection, ids["appstore"], "chatwoot")
        due = get_link(connection, ids["reddit"], "chatwoot")
        assert waiting is not None and due is not None
        set_link_if(
            connection, waiting.id, ("sending",), state="failed", next_attempt_at=now + timedelta(minutes=5)
        )
        set_link_if(
            connection, due.id, ("sending",), state="unconfirmed", next_attempt_at=now - timedelta(seconds=1)
        )
    lease = timedelta(minutes=5)
    assert [link.mention_id for link in due_links(engine, now, lease)] == [ids["reddit"]]
    # The third is "sending": due once its lease is over (a crashed sender).
    later = [link.mention_id for link in due_links(engine, now + timedelta(minutes=6), lease)]
    assert later == [ids["appstore"], ids["reddit"], ids["mastodon"]]


def test_a_delivery_key_is_kept_once(engine: Engine) -> None:
    now = utcnow()
    with engine.begin() as connection:
        assert record_delivery(connection, "zammad", "k" * 64, now, "uuid-1", "trigger", "19")
        set_delivery_outcome(connection, "zammad", "k" * 64, "resolved the case")
    with engine.begin() as connection:
        assert not record_delivery(connection, "zammad", "k" * 64, now, "uuid-2", "trigger", "19")
        assert record_delivery(connection, "chatwoot", "k" * 64, now, None, None, None)
    (chatwoot, zammad) = sorted(recent_deliveries(engine), key=lambda d: d.helpdesk)
    assert (zammad.delivery_id, zammad.outcome, zammad.received_at) == ("uuid-1", "resolved the case", now)
    assert chatwoot.outcome == "received"
