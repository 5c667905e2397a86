"""A reply's one table of moves and its one writer: every move allowed from its statuses and refused
from every other, a move that lost a race writes nothing, and one Submit that posts takes two
transactions (claim, outcome) around the request and reads the case once in each (SQLite: the logic)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, Engine, event, update

from monitor.config import ResponderSettings
from monitor.errors import ReplyStateError
from monitor.mention import utcnow
from monitor.respond.cases import open_case
from monitor.respond.reply_states import DONE, REPLY_MOVES, allowed, move_reply
from monitor.respond.workflow import Repliers, ReplyAction, run_reply_action
from monitor.store.cases import REPLY_STATUSES, Case, CaseReply, get_case, get_reply
from monitor.store.schema import case_replies
from monitor.store.triage import history
from tests.respond.conftest import ADMIN, RESPONDER, SETTINGS, Store, approved
from tests.respond.fakes import FakeMastodon
from tests.respond.test_workflow import only, unconfigured
from tests.support.http_replay import ReplayServer

# Every status a reply can be in, and the moves out of each, written out so the table is read twice.
EXPECTED_FROM = {
    "edit": {"draft", "awaiting_approval", "approved", "failed"},
    "submit": {"draft", "failed"},
    "submit_for_approval": {"draft", "failed"},
    "approve": {"awaiting_approval"},
    "send_back": {"awaiting_approval"},
    "too_long": {"approved"},
    "claim": {"approved", "posting", "unconfirmed"},
    "fail": {"posting"},
    "unconfirm": {"posting"},
    "post": {"draft", "awaiting_approval", "approved", "posting", "unconfirmed", "failed"},
    "post_by_hand": {"approved"},
}


def _set_status(engine: Engine, reply_id: int, status: str) -> CaseReply:
    with engine.begin() as connection:
        connection.execute(update(case_replies).where(case_replies.c.id == reply_id).values(status=status))
        return get_reply(connection, reply_id)


def _case(connection: Connection, reply: CaseReply) -> Case:
    return get_case(connection, reply.case_id)


def test_the_table_names_every_move_and_status_once() -> None:
    assert set(REPLY_MOVES) == set(EXPECTED_FROM)
    for name, move in REPLY_MOVES.items():
        assert set(move.from_statuses) == EXPECTED_FROM[name], name
        assert move.to in REPLY_STATUSES and not set(move.from_statuses) & set(DONE), name
    # Nothing moves a reply once it reached the customer.
    assert not any(allowed(name, status) for name in REPLY_MOVES for status in DONE)


def test_every_move_is_allowed_from_its_statuses_and_refused_from_every_other(store: Store) -> None:
    reply = approved(store, "reddit", "Sorry about that.", None)
    for name, move in REPLY_MOVES.items():
        for status in REPLY_STATUSES:
            before = _set_status(store.engine, reply.id, status)
            written = len(history(store.engine, store.ids["reddit"]))
            with store.engine.begin() as connection:
                if status in EXPECTED_FROM[name]:
                    moved = move_reply(connection, before, _case(connection, before), name, "dana", utcnow())
                    assert moved is not None and moved.reply.status == move.to, (name, status)
                else:
                    with pytest.raises(ReplyStateError):
                        move_reply(connection, before, _case(connection, before), name, "dana", utcnow())
            events = history(store.engine, store.ids["reddit"])[written:]
            if status in EXPECTED_FROM[name]:
                # The reply's own event first, then the case's transition, if the table names one.
                assert (events[0].action, events[0].before, events[0].after) == (move.event, status, move.to)
            else:
                assert events == [], (name, status)
                assert _status(store.engine, reply.id) == status


def _status(engine: Engine, reply_id: int) -> str:
    with engine.connect() as connection:
        return get_reply(connection, reply_id).status


def test_a_move_on_a_reply_that_changed_since_it_was_read_writes_nothing(store: Store) -> None:
    reply = approved(store, "reddit", "Sorry about that.", None)
    written = len(history(store.engine, store.ids["reddit"]))
    _set_status(store.engine, reply.id, "posting")  # another process claimed it meanwhile
    with store.engine.begin() as connection:
        lost = move_reply(connection, reply, _case(connection, reply), "post_by_hand", "dana", utcnow())
    assert lost is None
    assert len(history(store.engine, store.ids["reddit"])) == written
    # A claim compares the attempt count too: a second claimer at the same attempt loses.
    _set_status(store.engine, reply.id, "approved")
    with store.engine.begin() as connection:
        first = move_reply(
            connection, reply, _case(connection, reply), "claim", "a", utcnow(), at_attempt=0, attempts=1
        )
        second = move_reply(
            connection, reply, _case(connection, reply), "claim", "b", utcnow(), at_attempt=0, attempts=1
        )
    assert first is not None and second is None


@dataclass
class RoundTrips:
    transactions: int = 0
    case_reads: int = 0


# A SELECT whose FROM or JOIN names the cases table.
CASE_READ = re.compile(r"^\s*select\b.*\b(from|join)\s+cases\b", re.IGNORECASE | re.DOTALL)


@contextmanager
def counted(engine: Engine) -> Iterator[RoundTrips]:
    trips = RoundTrips()

    def begin(_connection: Connection) -> None:
        trips.transactions += 1

    def execute(_conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
        trips.case_reads += bool(CASE_READ.search(statement))

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", execute)
    try:
        yield trips
    finally:
        event.remove(engine, "begin", begin)
        event.remove(engine, "before_cursor_execute", execute)


def test_one_submit_that_posts_is_two_transactions_around_the_request(
    store: Store, replay_server: ReplayServer
) -> None:
    """Before one table and one writer: 7 transactions and 10 reads of the case (counted the same way)."""
    fake = FakeMastodon(replay_server)
    case = open_case(store.engine, store.ids["mastodon"], ADMIN.name, SETTINGS)
    action = ReplyAction("submit", case.id, text="Hi dana_k, sorry: fixed in 2.3.", base_version=0)
    with counted(store.engine) as trips:
        outcome = run_reply_action(store.engine, action, ADMIN, SETTINGS, only(fake.source()))
    assert outcome.happened == "posted" and len(fake.posts()) == 1
    print(f"one Submit that posts: {trips.transactions} transactions, {trips.case_reads} case reads")
    assert (trips.transactions, trips.case_reads) == (2, 2)
    kinds = [e.action for e in history(store.engine, store.ids["mastodon"])]
    assert kinds[1:5] == ["reply_draft", "status", "reply_submit", "reply_posting"]
    assert "reply_posted" in kinds[5:]


def test_approve_and_post_is_two_transactions_too(store: Store, replay_server: ReplayServer) -> None:
    fake = FakeMastodon(replay_server)
    repliers = only(fake.source())
    settings = ResponderSettings(approval_roles=("responder",))
    case = open_case(store.engine, store.ids["mastodon"], RESPONDER.name, settings)
    submit = ReplyAction("submit", case.id, text="Sorry: fixed in 2.3.", base_version=0)
    waiting = run_reply_action(store.engine, submit, RESPONDER, settings, repliers)
    assert waiting.happened == "awaiting_approval" and waiting.reply is not None and fake.posts() == []
    with counted(store.engine) as trips:
        approve = ReplyAction("approve", case.id, reply_id=waiting.reply.id)
        outcome = run_reply_action(store.engine, approve, ADMIN, settings, repliers)
    assert outcome.happened == "posted" and len(fake.posts()) == 1
    print(f"one Approve that posts: {trips.transactions} transactions, {trips.case_reads} case reads")
    assert (trips.transactions, trips.case_reads) == (2, 2)


def test_a_refused_submit_keeps_the_draft_it_saved(store: Store) -> None:
    case = open_case(store.engine, store.ids["mastodon"], ADMIN.name, SETTINGS)
    too_long = "sorry " * 2000  # over the 10,000 characters of a reply posted by hand
    outcome = run_reply_action(
        store.engine, ReplyAction("submit", case.id, text=too_long), ADMIN, SETTINGS, Repliers(unconfigured)
    )
    assert outcome.happened == "refused" and outcome.message is not None and "shorten it" in outcome.message
    with store.engine.connect() as connection:
        kept = connection.execute(case_replies.select().where(case_replies.c.case_id == case.id)).one()
    assert (kept.status, kept.text) == ("draft", too_long)
