"""The transition table and its writer, on SQLite and PostgreSQL: every allowed move of a case and its
mention, what each leaves in the audit trail, and the moves it refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from monitor.errors import CaseError
from monitor.mention import utcnow
from monitor.respond.cases import open_case, set_status, triage
from monitor.respond.transitions import MANUAL_STATUSES, TRANSITIONS, apply_transition
from monitor.store.cases import CASE_STATUSES, find_case
from monitor.store.filters import TRIAGE_STATES
from monitor.store.schema import cases, mentions
from monitor.store.triage import TriageError, history
from tests.respond.conftest import SETTINGS, Store

OTHERS = ("new", "in_progress", "waiting_for_approval", "replied")  # neither resolved nor dismissed

# (cause, value, case before, triage before) -> (case after, triage after). Written out, not derived
# from the table, so that a change to the table shows up here as a change of behaviour.
ALLOWED: list[tuple[str, str, str, str, str, str]] = [
    # A person sets the status: from any other status; the mention follows.
    *[("status", "new", before, "handled", "new", "open") for before in CASE_STATUSES if before != "new"],
    *[
        ("status", "in_progress", before, "dismissed", "in_progress", "open")
        for before in CASE_STATUSES
        if before != "in_progress"
    ],
    *[
        ("status", "resolved", before, "open", "resolved", "handled")
        for before in CASE_STATUSES
        if before != "resolved"
    ],
    *[
        ("status", "dismissed", before, "open", "dismissed", "dismissed")
        for before in CASE_STATUSES
        if before != "dismissed"
    ],
    # A person marks the mention: the case follows from any status; reopening moves a closed case only.
    *[("triage", "handled", before, "open", "resolved", "handled") for before in CASE_STATUSES],
    *[("triage", "dismissed", before, "open", "dismissed", "dismissed") for before in CASE_STATUSES],
    ("triage", "open", "resolved", "handled", "in_progress", "open"),
    ("triage", "open", "dismissed", "dismissed", "in_progress", "open"),
    *[("triage", "open", before, "handled", before, "open") for before in OTHERS],
    # The reply moves the case; the mention stays as it was marked.
    ("reply", "drafted", "new", "handled", "in_progress", "handled"),
    *[
        ("reply", "awaits_approval", before, "open", "waiting_for_approval", "open")
        for before in ("new", "in_progress")
    ],
    ("reply", "approved", "waiting_for_approval", "open", "in_progress", "open"),
    ("reply", "sent_back", "waiting_for_approval", "open", "in_progress", "open"),
    # A posted reply answers the customer: the mention is handled with the case.
    *[("reply", "posted", before, "open", "replied", "handled") for before in ("new", "in_progress")],
    ("reply", "posted", "waiting_for_approval", "open", "replied", "handled"),
    # The customer edits the mention after our reply, or after it was resolved: both reopen.
    ("edit", "reopen", "replied", "open", "in_progress", "open"),
    ("edit", "reopen", "replied", "handled", "in_progress", "open"),
    ("edit", "reopen", "resolved", "handled", "in_progress", "open"),
    # The helpdesk the case was handed to closes its conversation, or reopens it (monitor/helpdesk/).
    *[
        ("helpdesk", "resolved", before, "open", "resolved", "handled")
        for before in ("new", "in_progress", "waiting_for_approval", "replied")
    ],
    ("helpdesk", "reopened", "resolved", "handled", "in_progress", "open"),
    # Undoing a mark puts the case back as it was, from any status, even one no one sets by hand; the
    # mention is put back by its own "triage" move (respond/bulk.py).
    *[
        ("undo", status, before, "dismissed", status, "dismissed")
        for status in CASE_STATUSES
        for before in CASE_STATUSES
        if before != status
    ],
]

# Moves whose leading side is already where the move goes, or whose case is not in a status it moves:
# nothing at all is written, not even to the other side.
UNCHANGED: list[tuple[str, str, str, str]] = [
    ("status", "resolved", "resolved", "open"),  # the case leads, and it is already resolved
    ("triage", "handled", "in_progress", "handled"),  # the mention leads, and it is already handled
    ("reply", "drafted", "in_progress", "open"),
    ("reply", "drafted", "resolved", "handled"),
    ("reply", "awaits_approval", "resolved", "handled"),
    ("reply", "awaits_approval", "waiting_for_approval", "open"),
    ("reply", "approved", "in_progress", "open"),
    ("reply", "posted", "replied", "open"),
    ("reply", "posted", "dismissed", "dismissed"),
    ("undo", "replied", "replied", "handled"),  # already back
    # An edit before we answered, or on a case closed as not relevant, changes no case.
    *[("edit", "reopen", before, "open") for before in ("new", "in_progress", "waiting_for_approval")],
    ("edit", "reopen", "dismissed", "dismissed"),
    # A case closed as not relevant stays so whatever the helpdesk does; an open one is not reopened.
    ("helpdesk", "resolved", "dismissed", "dismissed"),
    ("helpdesk", "resolved", "resolved", "handled"),
    *[("helpdesk", "reopened", before, "open") for before in ("new", "in_progress", "replied")],
    ("helpdesk", "reopened", "dismissed", "dismissed"),
]


def _set(store: Store, mention_id: int, case_status: str, triage_state: str) -> None:
    """Put the case and its mention in a starting state without the writer (test set-up only)."""
    with store.engine.begin() as connection:
        connection.execute(update(cases).where(cases.c.mention_id == mention_id).values(status=case_status))
        connection.execute(update(mentions).where(mentions.c.id == mention_id).values(triage=triage_state))


def _state(store: Store, mention_id: int) -> tuple[str, str]:
    case = find_case(store.engine, mention_id)
    assert case is not None
    with store.engine.connect() as connection:
        state = connection.scalar(select(mentions.c.triage).where(mentions.c.id == mention_id))
    return case.status, str(state)


def test_the_table_covers_every_cause_it_names_and_nothing_else() -> None:
    assert {(cause, value) for cause, value, *_ in ALLOWED} == set(TRANSITIONS)
    assert MANUAL_STATUSES == ("new", "in_progress", "resolved", "dismissed")
    assert {value for cause, value in TRANSITIONS if cause == "triage"} == set(TRIAGE_STATES)


def test_every_allowed_transition_moves_the_case_and_its_mention_together(store: Store) -> None:
    mention_id = store.ids["reddit"]
    open_case(store.engine, mention_id, "sam", SETTINGS)
    for cause, value, case_before, triage_before, case_after, triage_after in ALLOWED:
        _set(store, mention_id, case_before, triage_before)
        written = len(history(store.engine, mention_id))
        with store.engine.begin() as connection:
            apply_transition(connection, mention_id, cause, value, "dana", utcnow())
        row = (cause, value, case_before, triage_before)
        assert _state(store, mention_id) == (case_after, triage_after), row
        events = [(e.action, e.before, e.after) for e in history(store.engine, mention_id)[written:]]
        expected = []
        if case_after != case_before:
            expected.append(("status", case_before, case_after))
        if triage_after != triage_before:
            expected.append(("triage", triage_before, triage_after))
        if cause == "triage":
            expected.reverse()  # the side a person acted on is written first
        assert events == expected, row


def test_a_transition_whose_leading_side_does_not_move_writes_nothing(store: Store) -> None:
    mention_id = store.ids["reddit"]
    open_case(store.engine, mention_id, "sam", SETTINGS)
    for cause, value, case_before, triage_before in UNCHANGED:
        _set(store, mention_id, case_before, triage_before)
        written = len(history(store.engine, mention_id))
        with store.engine.begin() as connection:
            apply_transition(connection, mention_id, cause, value, "dana", utcnow())
        row = (cause, value, case_before, triage_before)
        assert _state(store, mention_id) == (case_before, triage_before), row
        assert len(history(store.engine, mention_id)) == written, row


def test_the_follower_says_why_it_moved_and_the_clock_stops_only_when_resolved(store: Store) -> None:
    mention_id = store.ids["reddit"]
    case = open_case(store.engine, mention_id, "sam", SETTINGS)
    resolved = set_status(store.engine, case.id, "resolved", "dana")
    assert resolved.resolved_at is not None
    triage(store.engine, mention_id, "open", "rick", note="the customer wrote again")
    reopened = find_case(store.engine, mention_id)
    assert reopened is not None and reopened.status == "in_progress" and reopened.resolved_at is None
    assert [(e.action, e.note, e.actor) for e in history(store.engine, mention_id)[1:]] == [
        ("status", None, "dana"),
        ("triage", "with the case", "dana"),
        ("triage", "the customer wrote again", "rick"),
        ("status", "with the mention", "rick"),
    ]


def test_a_mention_without_a_case_is_only_marked(store: Store) -> None:
    mention_id = store.ids["mastodon"]
    with store.engine.begin() as connection:
        assert apply_transition(connection, mention_id, "triage", "dismissed", "dana", utcnow()) is None
        # A case-led move has nothing to move.
        assert apply_transition(connection, mention_id, "reply", "posted", "dana", utcnow()) is None
    assert [(e.action, e.after) for e in history(store.engine, mention_id)] == [("triage", "dismissed")]
    assert find_case(store.engine, mention_id) is None


def test_moves_outside_the_table_are_refused_and_change_nothing(store: Store) -> None:
    mention_id = store.ids["reddit"]
    case = open_case(store.engine, mention_id, "sam", SETTINGS)
    for status in ("replied", "waiting_for_approval", "closed"):
        with pytest.raises(CaseError, match=rf"cannot be set to {status!r} by hand"):
            set_status(store.engine, case.id, status, "sam")
    with pytest.raises(TriageError, match="unknown triage state 'spam'"):
        triage(store.engine, mention_id, "spam", "sam")
    with store.engine.begin() as connection, pytest.raises(CaseError, match="no case transition"):
        apply_transition(connection, mention_id, "reply", "deleted", "sam", utcnow())
    assert _state(store, mention_id) == ("new", "open")
    assert [e.action for e in history(store.engine, mention_id)] == ["case"]
