"""Cases (the storage-bound ones on PostgreSQL too): status, assignment by hand and by rules, notes,
tags, the response clock, overdue flags, and the audit trail of every change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from monitor.config import ResponderRule, ResponderSettings
from monitor.errors import CaseError
from monitor.mention import utcnow
from monitor.respond.cases import add_note, apply_rules, assign, open_case, set_status, set_tags, triage
from monitor.store.cases import case_badges, case_notes, find_case, overdue_cases
from monitor.store.schema import mention_events, mentions
from tests.respond.conftest import SETTINGS, Store, trail


@pytest.mark.both_databases
def test_case_changes_are_in_the_audit_trail_with_before_and_after(store: Store) -> None:
    case = open_case(store.engine, store.ids["reddit"], "sam", SETTINGS)
    assert case.status == "new" and case.assignee is None
    assert open_case(store.engine, store.ids["reddit"], "rick", SETTINGS).id == case.id  # one case a mention
    assign(store.engine, case.id, "dana", "sam")
    assign(store.engine, case.id, "dana", "sam")  # no change, no event
    set_status(store.engine, case.id, "in_progress", "dana")
    set_tags(store.engine, case.id, ["sync", "refund", "Sync", " "], "dana")
    add_note(store.engine, case.id, "Customer since 2019; offered a refund by DM", "dana")
    set_status(store.engine, case.id, "resolved", "dana")

    assert trail(store, "reddit") == [
        ("case", None, "new", "sam"),
        ("assign", None, "dana", "sam"),
        ("status", "new", "in_progress", "dana"),
        ("tags", None, "sync, refund", "dana"),
        ("note", None, None, "dana"),
        ("status", "in_progress", "resolved", "dana"),
        ("triage", "open", "handled", "dana"),
    ]
    notes = case_notes(store.engine, store.ids["reddit"])
    assert [n.note for n in notes] == ["Customer since 2019; offered a refund by DM"]
    with store.engine.connect() as connection:
        at = connection.scalar(select(mention_events.c.at).where(mention_events.c.action == "assign"))
    assert at is not None and abs((utcnow() - at).total_seconds()) < 60
    resolved = find_case(store.engine, store.ids["reddit"])
    assert resolved is not None and resolved.tags == ("sync", "refund")
    assert resolved.time_to_resolution is not None and resolved.resolved_at is not None
    with store.engine.connect() as connection:
        triage = connection.scalar(select(mentions.c.triage).where(mentions.c.id == store.ids["reddit"]))
    assert triage == "handled"


def test_marking_a_mention_moves_its_case_along(store: Store) -> None:
    case = open_case(store.engine, store.ids["reddit"], "sam", SETTINGS)
    set_status(store.engine, case.id, "in_progress", "dana")
    triage(store.engine, store.ids["reddit"], "handled", "dana")
    handled = find_case(store.engine, store.ids["reddit"])
    assert handled is not None and handled.status == "resolved" and handled.resolved_at is not None
    triage(store.engine, store.ids["reddit"], "open", "dana")
    reopened = find_case(store.engine, store.ids["reddit"])
    assert reopened is not None and reopened.status == "in_progress" and reopened.resolved_at is None
    triage(store.engine, store.ids["reddit"], "dismissed", "rick")
    dismissed = find_case(store.engine, store.ids["reddit"])
    assert dismissed is not None and dismissed.status == "dismissed"
    assert trail(store, "reddit")[-6:] == [
        ("triage", "open", "handled", "dana"),
        ("status", "in_progress", "resolved", "dana"),
        ("triage", "handled", "open", "dana"),
        ("status", "resolved", "in_progress", "dana"),
        ("triage", "open", "dismissed", "rick"),
        ("status", "in_progress", "dismissed", "rick"),
    ]
    # A mention without a case is only marked.
    triage(store.engine, store.ids["mastodon"], "handled", "dana")
    assert find_case(store.engine, store.ids["mastodon"]) is None


def test_statuses_that_come_from_replies_cannot_be_set_by_hand(store: Store) -> None:
    case = open_case(store.engine, store.ids["reddit"], "sam", SETTINGS)
    with pytest.raises(CaseError, match="replied comes from posting a reply"):
        set_status(store.engine, case.id, "replied", "sam")
    with pytest.raises(CaseError, match="needs some text"):
        add_note(store.engine, case.id, "  ", "sam")


def test_rules_open_and_assign_cases_for_matching_scored_mentions(store: Store) -> None:
    settings = ResponderSettings(
        rules=(ResponderRule(assignee="dana", source="mastodon"), ResponderRule(assignee="lee", watch="acme"))
    )
    with store.engine.begin() as connection:
        connection.execute(update(mentions).values(scored_at=utcnow()))
        connection.execute(update(mentions).where(mentions.c.source == "appstore").values(label="positive"))
    assert apply_rules(store.engine, settings) == 4  # the positive review matches no rule
    assert apply_rules(store.engine, settings) == 0  # they have cases now
    mastodon_case = find_case(store.engine, store.ids["mastodon"])
    reddit_case = find_case(store.engine, store.ids["reddit"])
    assert mastodon_case is not None and mastodon_case.assignee == "dana"
    assert reddit_case is not None and reddit_case.assignee == "lee"
    assert find_case(store.engine, store.ids["appstore"]) is None
    assert trail(store, "mastodon")[0] == ("case", None, "new", "rules")


def test_a_case_past_its_response_target_without_a_reply_is_overdue(store: Store) -> None:
    now = utcnow()
    case = open_case(store.engine, store.ids["reddit"], "sam", ResponderSettings(response_target_minutes=60))
    with store.engine.connect() as connection:
        collected = connection.scalar(
            select(mentions.c.collected_at).where(mentions.c.id == store.ids["reddit"])
        )
    assert case.clock_from == collected and case.response_due_at == collected + timedelta(minutes=60)
    assert overdue_cases(store.engine, now) == []
    later = case.clock_from + timedelta(minutes=61)
    (overdue,) = overdue_cases(store.engine, later)
    assert overdue.mention_id == store.ids["reddit"] and overdue.overdue_by(later) == timedelta(minutes=1)
    badges = case_badges(store.engine, [store.ids["reddit"], store.ids["mastodon"]], later)
    assert list(badges) == [store.ids["reddit"]] and badges[store.ids["reddit"]].overdue
    set_status(store.engine, case.id, "dismissed", "sam")
    assert overdue_cases(store.engine, later) == []


def test_a_case_opened_days_later_says_so_while_its_clock_runs_from_the_mention(store: Store) -> None:
    with store.engine.connect() as connection:
        collected = connection.scalar(
            select(mentions.c.collected_at).where(mentions.c.id == store.ids["reddit"])
        )
    opened = collected + timedelta(days=3)
    settings = ResponderSettings(response_target_minutes=60)
    case = open_case(store.engine, store.ids["reddit"], "sam", settings, now=opened)
    assert case.opened_at == opened and case.clock_from == collected
    assert case.response_due_at == collected + timedelta(minutes=60)
    resolved = set_status(store.engine, case.id, "resolved", "sam", now=opened + timedelta(hours=1))
    assert resolved.time_to_resolution == timedelta(days=3, hours=1)
