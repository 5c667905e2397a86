"""Cases (one case a mention, on PostgreSQL too): status, assignment by hand and by rules, notes, tags,
the response clock, overdue flags, approval rules, replies by hand, and the audit trail of every change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from monitor.config import ResponderRule, ResponderSettings
from monitor.errors import ApprovalError, CaseError, NoReplyApi, ReplyStateError
from monitor.mention import utcnow
from monitor.respond.cases import (
    add_note,
    apply_rules,
    approve_reply,
    assign,
    mark_replied_by_hand,
    measure,
    open_case,
    post_reply,
    return_reply,
    save_draft,
    set_status,
    set_tags,
    submit_reply,
    triage,
)
from monitor.store.cases import case_badges, case_notes, find_case, load_reply, overdue_cases
from monitor.store.schema import mention_events, mentions
from monitor.store.triage import history
from tests.respond.conftest import ADMIN, OTHER_ADMIN, RESPONDER, SETTINGS, VIEWER, Store, set_priority
from tests.respond.fakes import FakeMastodon
from tests.support.http_replay import ReplayServer


def trail(store: Store, key: str) -> list[tuple[str, str | None, str | None, str]]:
    return [(e.action, e.before, e.after, e.actor) for e in history(store.engine, store.ids[key])]


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


# --- approval ----------------------------------------------------------------------------------------------


def test_a_responders_reply_waits_for_an_approver_who_is_not_its_author(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    source = fake.source()
    settings = ResponderSettings(approval_roles=("responder",))
    case = open_case(store.engine, store.ids["mastodon"], "rick", settings)
    draft = save_draft(store.engine, case.id, "Sorry about that!", RESPONDER)
    waiting = submit_reply(
        store.engine, draft.id, RESPONDER, settings, measure("mastodon", draft.text, source)
    )
    assert waiting.status == "awaiting_approval"
    case_now = find_case(store.engine, store.ids["mastodon"])
    assert case_now is not None and case_now.status == "waiting_for_approval"

    with pytest.raises(ReplyStateError, match="waits for approval"):
        post_reply(store.engine, draft.id, RESPONDER, source)
    with pytest.raises(ApprovalError, match="needs the admin role"):
        approve_reply(store.engine, draft.id, RESPONDER, settings)
    approved = approve_reply(store.engine, draft.id, ADMIN, settings)
    assert approved.status == "approved" and approved.approved_by == "sam"
    posted = post_reply(store.engine, draft.id, RESPONDER, source)
    assert posted.status == "posted" and len(fake.posts()) == 1
    actions = [(a, b, c, who) for a, b, c, who in trail(store, "mastodon") if a.startswith("reply")]
    assert actions == [
        ("reply_draft", None, "draft", "rick"),
        ("reply_submit", "draft", "awaiting_approval", "rick"),
        ("reply_approve", "awaiting_approval", "approved", "sam"),
        ("reply_posting", "approved", "posting", "rick"),
        ("reply_posted", "posting", "posted", "rick"),
    ]


def test_high_priority_replies_wait_and_their_author_cannot_approve_them(store: Store) -> None:
    set_priority(store.engine, store.ids["reddit"], 5.0)
    settings = ResponderSettings(approval_min_priority=3.0)
    case = open_case(store.engine, store.ids["reddit"], "sam", settings)
    draft = save_draft(store.engine, case.id, "We are on it.", ADMIN)
    waiting = submit_reply(store.engine, draft.id, ADMIN, settings, measure("reddit", draft.text, None))
    assert waiting.status == "awaiting_approval"
    with store.engine.connect() as connection:
        note = connection.scalar(
            select(mention_events.c.note).where(
                mention_events.c.mention_id == store.ids["reddit"], mention_events.c.action == "reply_submit"
            )
        )
    assert note is not None and "priority 5.00 is at least 3" in note
    with pytest.raises(ApprovalError, match="someone other than the person who wrote it"):
        approve_reply(store.engine, draft.id, ADMIN, settings)
    assert approve_reply(store.engine, draft.id, OTHER_ADMIN, settings).approved_by == "alex"


def test_low_priority_replies_by_admins_need_no_approval(store: Store) -> None:
    settings = ResponderSettings(approval_roles=("responder",), approval_min_priority=3.0)
    case = open_case(store.engine, store.ids["reddit"], "sam", settings)
    draft = save_draft(store.engine, case.id, "We are on it.", ADMIN)
    assert (
        submit_reply(store.engine, draft.id, ADMIN, settings, measure("reddit", "x", None)).status
        == "approved"
    )


def test_an_approver_can_send_a_reply_back_and_an_edit_voids_an_approval(store: Store) -> None:
    settings = ResponderSettings(approval_roles=("responder",))
    case = open_case(store.engine, store.ids["reddit"], "rick", settings)
    draft = save_draft(store.engine, case.id, "sorry", RESPONDER)
    submit_reply(store.engine, draft.id, RESPONDER, settings, measure("reddit", "sorry", None))
    back = return_reply(store.engine, draft.id, ADMIN, settings, "Say sorry properly, and no lowercase")
    assert back.status == "draft"
    submit_reply(store.engine, draft.id, RESPONDER, settings, measure("reddit", "sorry", None))
    approve_reply(store.engine, draft.id, ADMIN, settings)
    edited = save_draft(store.engine, case.id, "Sorry!", RESPONDER)
    assert edited.id == draft.id and edited.status == "draft" and edited.approved_by is None
    assert ("reply_edit", "approved", "draft", "rick") in trail(store, "reddit")


def test_viewers_cannot_draft_and_the_wrong_source_is_refused(
    store: Store, replay_server: ReplayServer
) -> None:
    case = open_case(store.engine, store.ids["reddit"], "sam", SETTINGS)
    with pytest.raises(CaseError, match="needs the responder role"):
        save_draft(store.engine, case.id, "hi", VIEWER)
    draft = save_draft(store.engine, case.id, "hi", ADMIN)
    submit_reply(store.engine, draft.id, ADMIN, SETTINGS, measure("reddit", "hi", None))
    with pytest.raises(NoReplyApi, match="is for reddit, not mastodon"):
        post_reply(store.engine, draft.id, ADMIN, FakeMastodon(replay_server).source())


def test_sources_without_a_reply_api_are_marked_replied_by_hand(store: Store) -> None:
    case = open_case(store.engine, store.ids["appstore"], "sam", SETTINGS)
    text = "Sorry about your data; please write to support@acme.example."
    draft = save_draft(store.engine, case.id, text, ADMIN)
    length = measure("appstore", text, None)
    assert length.limit == 5970 and length.unit == "characters"
    with pytest.raises(ReplyStateError):
        mark_replied_by_hand(store.engine, draft.id, ADMIN)  # not submitted yet
    submit_reply(store.engine, draft.id, ADMIN, SETTINGS, length)
    done = mark_replied_by_hand(store.engine, draft.id, ADMIN)
    assert done.status == "posted_by_hand" and done.posted_at is not None
    replied = find_case(store.engine, store.ids["appstore"])
    assert replied is not None and replied.status == "replied" and replied.time_to_first_response is not None
    assert ("reply_by_hand", "posting", "posted_by_hand", "sam") in trail(store, "appstore")
    assert load_reply(store.engine, draft.id).text == text
    # A new reply after a posted one is a follow-up with its own key.
    follow_up = save_draft(store.engine, case.id, "Following up: fixed in 2.3.", ADMIN)
    assert follow_up.id != draft.id and follow_up.idempotency_key != draft.idempotency_key
