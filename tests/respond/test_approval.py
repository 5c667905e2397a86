"""Approval that holds and drafts that do not silently replace each other: every version of a reply's
text records who wrote it, the approver is someone who wrote none of it (chosen at submit: a person or a
role), approving, sending back and editing after approval are audited, and a draft saved over a version
someone else wrote meanwhile is refused with both texts (store, then the panel through AppTest)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.config import ResponderSettings
from monitor.errors import ApprovalError, CaseError, DraftConflict
from monitor.respond.cases import open_case
from monitor.respond.history import event_sentence
from monitor.respond.replies import (
    approve_reply,
    current_reply,
    measure,
    return_reply,
    save_draft,
    submit_reply,
)
from monitor.respond.reply_approval import approver_in_note
from monitor.store.cases import CaseReply, find_case, load_reply
from monitor.store.reply_moves import latest_reply_authors, load_versions
from monitor.store.triage import MentionEvent, history
from tests.dashboard.conftest import Seeded, make_store, run_app
from tests.respond.conftest import ADMIN, OTHER_ADMIN, RESPONDER, VIEWER, Store
from tests.respond.test_case_panel import USERS, _click, _config, _with_mastodon

__all__ = ["make_store"]  # the fixture, shared with tests/dashboard

RESPONDERS_WAIT = ResponderSettings(approval_roles=("responder",))


def _events(store: Store, key: str, kind: str) -> list[MentionEvent]:
    return [e for e in history(store.engine, store.ids[key]) if e.action == kind]


def _latest(engine: Engine, case_id: int) -> CaseReply:
    reply = current_reply(engine, case_id)
    assert reply is not None
    return reply


def _submit(store: Store, reply_id: int, user: User, approver: User | str | None = None) -> str:
    text = load_reply(store.engine, reply_id).text
    length = measure("reddit", text, None)
    return submit_reply(store.engine, reply_id, user, RESPONDERS_WAIT, length, approver=approver).status


@pytest.mark.both_databases
def test_an_admin_who_rewrote_a_responders_draft_cannot_approve_it(store: Store) -> None:
    case = open_case(store.engine, store.ids["reddit"], "rick", RESPONDERS_WAIT)
    first = save_draft(store.engine, case.id, "sorry", RESPONDER, base_version=0)
    second = save_draft(store.engine, case.id, "Sorry! Fixed in 2.3.", ADMIN, base_version=1)
    assert (second.id, second.version, second.author) == (first.id, 2, "rick")
    assert [(v.version, v.text, v.author, v.author_role) for v in load_versions(store.engine, first.id)] == [
        (1, "sorry", "rick", "responder"),
        (2, "Sorry! Fixed in 2.3.", "sam", "admin"),
    ]
    # An admin's own replies need no approval here, but this one carries a responder's words.
    assert _submit(store, first.id, ADMIN) == "awaiting_approval"
    (submitted,) = _events(store, "reddit", "reply_submit")
    assert approver_in_note(submitted.note) == ("role:admin", "rick (responder) wrote part of it")
    with pytest.raises(ApprovalError, match="approved by someone who wrote none of it"):
        approve_reply(store.engine, first.id, ADMIN, RESPONDERS_WAIT)
    with pytest.raises(ApprovalError, match="needs the admin role"):
        approve_reply(store.engine, first.id, RESPONDER, RESPONDERS_WAIT)
    done = approve_reply(store.engine, first.id, OTHER_ADMIN, RESPONDERS_WAIT)
    assert (done.status, done.approved_by) == ("approved", "alex")
    assert latest_reply_authors(store.engine, store.ids["reddit"]) == ["rick", "sam"]


@pytest.mark.both_databases
def test_a_draft_saved_over_someone_elses_version_is_refused_with_both_texts(store: Store) -> None:
    case = open_case(store.engine, store.ids["reddit"], "rick", RESPONDERS_WAIT)
    # Both start from no reply at all: the second does not silently replace the first.
    save_draft(store.engine, case.id, "Sorry about that.", RESPONDER, base_version=0)
    with pytest.raises(DraftConflict) as first_race:
        save_draft(store.engine, case.id, "We are on it.", ADMIN, base_version=0)
    assert (first_race.value.yours, first_race.value.theirs) == ("We are on it.", "Sorry about that.")
    # sam saves on the version he loaded; rick, still on version 1, is refused and told by whom.
    save_draft(store.engine, case.id, "Sorry! Fixed in 2.3.", ADMIN, base_version=1)
    with pytest.raises(DraftConflict, match="sam saved another version") as refused:
        save_draft(store.engine, case.id, "Sorry, truly.", RESPONDER, base_version=1)
    conflict = refused.value
    assert (conflict.yours, conflict.theirs, conflict.theirs_by, conflict.version) == (
        "Sorry, truly.",
        "Sorry! Fixed in 2.3.",
        "sam",
        2,
    )
    assert _latest(store.engine, case.id).text == "Sorry! Fixed in 2.3."
    # Saving on the version now shown replaces theirs on purpose; their text stays in the history.
    mine = save_draft(store.engine, case.id, "Sorry, truly.", RESPONDER, base_version=conflict.version)
    assert (mine.text, mine.version) == ("Sorry, truly.", 3)
    assert [v.text for v in load_versions(store.engine, mine.id)][1] == "Sorry! Fixed in 2.3."
    # Saving again on one's own version, or without saying which (the API), is not a conflict.
    assert save_draft(store.engine, case.id, "Sorry, truly!", RESPONDER, base_version=3).version == 4
    assert save_draft(store.engine, case.id, "Sorry, truly!!", ADMIN).version == 5


def test_editing_after_approval_needs_approval_again_and_is_audited(store: Store) -> None:
    case = open_case(store.engine, store.ids["reddit"], "rick", RESPONDERS_WAIT)
    draft = save_draft(store.engine, case.id, "Sorry about that.", RESPONDER, base_version=0)
    _submit(store, draft.id, RESPONDER)
    approve_reply(store.engine, draft.id, ADMIN, RESPONDERS_WAIT)
    # The approver rewrites the approved text: it is a draft again, and the edit says whose approval lapsed.
    edited = save_draft(store.engine, case.id, "Sorry! Fixed in 2.3.", ADMIN, base_version=1)
    assert (edited.status, edited.approved_by) == ("draft", None)
    (edit,) = _events(store, "reddit", "reply_edit")
    assert (edit.before, edit.after, edit.note) == ("approved", "draft", "sam had approved it")
    assert event_sentence(edit) == (
        "sam edited the approved reply (it needs approval again): sam had approved it"
    )
    # sam's role needs no approval, yet the edited text waits, and not for him.
    assert _submit(store, draft.id, ADMIN) == "awaiting_approval"
    note = _events(store, "reddit", "reply_submit")[-1].note or ""
    assert "it was edited after sam approved it" in note and "rick (responder) wrote part of it" in note
    with pytest.raises(ApprovalError, match="wrote part of this one"):
        approve_reply(store.engine, draft.id, ADMIN, RESPONDERS_WAIT)
    assert approve_reply(store.engine, draft.id, OTHER_ADMIN, RESPONDERS_WAIT).status == "approved"
    sentences = [event_sentence(e) for e in _events(store, "reddit", "reply_approve")]
    assert sentences == ["sam approved the reply: version 1", "alex approved the reply: version 2"]


def test_an_approver_is_chosen_at_submit_and_only_they_may_approve(store: Store) -> None:
    case = open_case(store.engine, store.ids["reddit"], "rick", RESPONDERS_WAIT)
    draft = save_draft(store.engine, case.id, "Sorry about that.", RESPONDER)
    unfit_approvers: list[tuple[User | str, str]] = [
        (VIEWER, "vera cannot approve replies"),
        (RESPONDER, "rick cannot approve replies"),
        ("role:viewer", "cannot approve replies; choose a person, or one of role:admin"),
    ]
    for unfit, why in unfit_approvers:
        with pytest.raises(ApprovalError, match=why):
            _submit(store, draft.id, RESPONDER, approver=unfit)
    assert load_reply(store.engine, draft.id).status == "draft"  # refused before anything was written
    assert _submit(store, draft.id, RESPONDER, approver=OTHER_ADMIN) == "awaiting_approval"
    assert load_reply(store.engine, draft.id).approver == "alex"
    (submitted,) = _events(store, "reddit", "reply_submit")
    assert event_sentence(submitted) == (
        "rick submitted the reply for approval by alex: replies by the responder role need approval"
    )
    with pytest.raises(ApprovalError, match="waits for alex's approval"):
        approve_reply(store.engine, draft.id, ADMIN, RESPONDERS_WAIT)
    # Sending back needs a reason, which is the event's note.
    with pytest.raises(CaseError, match="say why the reply goes back"):
        return_reply(store.engine, draft.id, OTHER_ADMIN, RESPONDERS_WAIT, "  ")
    return_reply(store.engine, draft.id, OTHER_ADMIN, RESPONDERS_WAIT, "Name the version with the fix")
    (back,) = _events(store, "reddit", "reply_send_back")
    assert event_sentence(back) == "alex sent the reply back to its author: Name the version with the fix"
    # With nothing that needs approval, asking for it still waits (for the role here).
    admins_free = ResponderSettings()
    length = measure("reddit", "Sorry about that.", None)
    waiting = submit_reply(store.engine, draft.id, ADMIN, admins_free, length, approver="role:admin")
    assert (waiting.status, waiting.approver) == ("awaiting_approval", "role:admin")
    assert approver_in_note(_events(store, "reddit", "reply_submit")[-1].note) == (
        "role:admin",
        "sam asked for it",
    )


def test_the_panel_refuses_a_conflicting_draft_and_shows_both_texts(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store(_config(None, 'approval_roles = ["responder"]', USERS))
    mention_id = _with_mastodon(seeded)
    rick, sam = User("rick", "responder", "x"), User("sam", "admin", "x")
    app = _click(
        run_app("views/mention.py", {"id": str(mention_id)}, {"grumble_user": rick}),
        f"open-case-{mention_id}",
    )
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    key = f"case-{case.id}-reply"
    app.text_area(key=f"{key}-text").input("Sorry, we are on it.").run()
    app = _click(app, f"{key}-save")
    # sam, in another browser, rewrites it; rick, not reloading, saves his own change.
    save_draft(seeded.engine, case.id, "Sorry! Fixed in 2.3.", sam, base_version=1)
    app.text_area(key=f"{key}-text").input("Sorry, we are on it today.").run()
    app = _click(app, f"{key}-save")
    assert "sam saved another version" in " ".join(e.value for e in app.error)
    assert [c.value for c in app.code] == ["Sorry, we are on it today.", "Sorry! Fixed in 2.3."]
    assert _latest(seeded.engine, case.id).text == "Sorry! Fixed in 2.3."  # nothing replaced
    assert app.text_area(key=f"{key}-text").value == "Sorry, we are on it today."  # nothing lost
    # He chooses his own, on purpose: put back, saved over theirs.
    app = _click(app, f"{key}-mine")
    app = _click(app, f"{key}-save")
    assert _latest(seeded.engine, case.id).text == "Sorry, we are on it today."
    assert not app.code
