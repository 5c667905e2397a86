"""Replies on SQLite and PostgreSQL: drafts, approval rules, sending back, the roles each step needs,
and replies by hand for sources without a reply API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.config import ResponderSettings
from monitor.errors import ApprovalError, CaseError, NoReplyApi, ReplyStateError
from monitor.respond.cases import open_case
from monitor.respond.posting import mark_replied_by_hand, post_reply
from monitor.respond.replies import approve_reply, measure, return_reply, save_draft, submit_reply
from monitor.store.cases import find_case, load_reply
from monitor.store.schema import mention_events
from monitor.store.triage import history
from tests.respond.conftest import ADMIN, OTHER_ADMIN, RESPONDER, SETTINGS, VIEWER, Store, set_priority, trail
from tests.respond.fakes import FakeMastodon
from tests.support.http_replay import ReplayServer


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
    assert note is not None and "a high-priority mention (priority 5.0; approval asked from 3)" in note
    with pytest.raises(ApprovalError, match="approved by someone who wrote none of it"):
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
    link = "https://apps.apple.com/us/app/id1?see-all=reviews#response-1"
    done = mark_replied_by_hand(store.engine, draft.id, ADMIN, sent=link)
    assert done.status == "posted_by_hand" and done.posted_at is not None and done.remote_url == link
    replied = find_case(store.engine, store.ids["appstore"])
    assert replied is not None and replied.status == "replied" and replied.time_to_first_response is not None
    # One move, approved -> posted_by_hand, with what was sent in the history.
    assert ("reply_by_hand", "approved", "posted_by_hand", "sam") in trail(store, "appstore")
    notes = [e.note for e in history(store.engine, store.ids["appstore"]) if e.action == "reply_by_hand"]
    assert notes == [f"sent: {link}"]
    assert load_reply(store.engine, draft.id).text == text
    # A new reply after a posted one is a follow-up with its own key.
    follow_up = save_draft(store.engine, case.id, "Following up: fixed in 2.3.", ADMIN)
    assert follow_up.id != draft.id and follow_up.idempotency_key != draft.idempotency_key
