"""The team's queues and shared views as the store keeps them, on both databases: each queue filter
(assignee, case status, tag, overdue, waiting for someone's approval, competitor watches left out),
views shared with the team, and the migration's default for views saved before sharing existed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from monitor.config import ResponderSettings
from monitor.mention import utcnow
from monitor.respond.cases import assign, open_case, set_status, set_tags
from monitor.store.filters import MentionFilter
from monitor.store.inbox import count, open_negatives, ranked
from monitor.store.mentions import import_mentions
from monitor.store.saved_views import (
    SavedView,
    SavedViewError,
    list_views,
    save_view,
    share_view,
    team_views,
)
from monitor.store.schema import case_replies, mentions, reply_versions
from tests.dashboard.conftest import score
from tests.factories import mention

SETTINGS = ResponderSettings()


def _seed(engine: Engine) -> dict[str, int]:
    """m1..m4 about acme; m5 only about globex (a competitor); m6 about both."""
    now = utcnow()
    import_mentions(engine, "acme", [mention(n, created_at=now) for n in (1, 2, 3, 4, 6)])
    import_mentions(engine, "globex", [mention(n, created_at=now) for n in (5, 6)])
    with engine.connect() as connection:
        ids = {
            key: int(value)
            for key, value in connection.execute(select(mentions.c.external_id, mentions.c.id))
        }
    score(engine, ids, {key: ("negative", 0.9) for key in ids})
    return ids


def _waiting_reply(
    engine: Engine, mention_id: int, author: str, approver: str | None, also_wrote: str | None = None
) -> None:
    """A reply by `author` waiting for `approver` (a name, "role:admin", or None); `also_wrote` wrote
    its second version."""
    case = open_case(engine, mention_id, author, SETTINGS)
    now = utcnow()
    with engine.begin() as connection:
        reply_id = connection.execute(
            case_replies.insert()
            .values(
                case_id=case.id,
                source="test",
                status="awaiting_approval",
                text="sorry",
                idempotency_key=f"k{mention_id}",
                author=author,
                approver=approver,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .returning(case_replies.c.id)
        ).scalar_one()
        writers = [author] if also_wrote is None else [author, also_wrote]
        for version, writer in enumerate(writers, start=1):
            connection.execute(
                reply_versions.insert().values(
                    reply_id=reply_id,
                    version=version,
                    text="sorry",
                    author=writer,
                    author_role="admin",
                    at=now,
                )
            )


def _matching(engine: Engine, where: MentionFilter) -> set[int]:
    return {row["id"] for row in ranked(engine, where, limit=100)}


@pytest.mark.both_databases
def test_each_queue_filter_reads_the_case_and_its_replies(engine: Engine) -> None:
    ids = _seed(engine)
    later = utcnow() + timedelta(days=1)
    mine = open_case(engine, ids["m1"], "dana", SETTINGS)
    assign(engine, mine.id, "dana", "dana")
    set_tags(engine, mine.id, ["refund", 'say "sorry"'], "dana")
    theirs = open_case(engine, ids["m2"], "rick", SETTINGS)
    assign(engine, theirs.id, "rick", "rick")
    set_tags(engine, theirs.id, ["refunds_later"], "rick")  # a tag that only looks like "refund"
    set_status(engine, theirs.id, "resolved", "rick")  # answered: never overdue
    _waiting_reply(engine, ids["m3"], "rick", approver=None)
    _waiting_reply(engine, ids["m4"], "rick", approver="role:admin", also_wrote="dana")
    _waiting_reply(engine, ids["m5"], "rick", approver="sam")

    assert _matching(engine, MentionFilter(assignee="dana")) == {ids["m1"]}
    assert _matching(engine, MentionFilter(assigned=True)) == {ids["m1"], ids["m2"]}
    # Nobody on it: a case without an assignee, or no case at all.
    assert _matching(engine, MentionFilter(assigned=False)) == {ids[k] for k in ("m3", "m4", "m5", "m6")}
    assert _matching(engine, MentionFilter(case_statuses=["new"])) == {
        ids[k] for k in ("m1", "m3", "m4", "m5")
    }
    assert _matching(engine, MentionFilter(case_statuses=["resolved"])) == {ids["m2"]}
    assert _matching(engine, MentionFilter(tags=["refund"])) == {ids["m1"]}
    assert _matching(engine, MentionFilter(tags=['say "sorry"', "refunds_later"])) == {ids["m1"], ids["m2"]}
    assert _matching(engine, MentionFilter(tags=["ref%"])) == set()  # no wildcard in a tag
    assert _matching(engine, MentionFilter(overdue=True, now=utcnow())) == set()  # not yet due
    assert _matching(engine, MentionFilter(overdue=True, now=later)) == {
        ids[k] for k in ("m1", "m3", "m4", "m5")
    }
    # Waiting for someone's approval: asked of them (by name or role) or of nobody in particular, and
    # they wrote none of it: not its author, not dana who rewrote m4's text, only sam for m5.
    assert _matching(engine, MentionFilter(approver="dana", approver_as=["role:admin"])) == {ids["m3"]}
    assert _matching(engine, MentionFilter(approver="rick", approver_as=["role:admin"])) == set()
    assert _matching(engine, MentionFilter(approver="sam", approver_as=["role:admin"])) == {
        ids["m3"],
        ids["m4"],
        ids["m5"],
    }
    assert _matching(engine, MentionFilter(approver="sam")) == {ids["m3"], ids["m5"]}
    assert count(engine, MentionFilter(assignee="dana", tags=["refund"], overdue=True, now=later)) == 1


@pytest.mark.both_databases
def test_competitor_watches_stay_out_of_the_inbox_and_its_count(engine: Engine) -> None:
    ids = _seed(engine)
    brand_only = MentionFilter(exclude_watches=["globex"])
    assert ids["m5"] not in _matching(engine, brand_only)
    assert ids["m6"] in _matching(engine, brand_only)  # it speaks of the brand too
    assert open_negatives(engine) == 6
    assert open_negatives(engine, ["globex"]) == 5


@pytest.mark.both_databases
def test_a_shared_view_is_seen_by_the_team_and_changed_only_by_its_owner(engine: Engine) -> None:
    now = utcnow()
    save_view(engine, "dana", "refunds", {"tag": ["refund"]}, now, shared=True)
    save_view(engine, "dana", "mine", {"assignee": "me"}, now)
    save_view(engine, "rick", "refunds", {"q": "money"}, now, shared=True)
    assert team_views(engine, "vera") == [
        SavedView("refunds", {"tag": ["refund"]}, True, "dana"),
        SavedView("refunds", {"q": "money"}, True, "rick"),
    ]
    assert team_views(engine, "dana") == [SavedView("refunds", {"q": "money"}, True, "rick")]
    # Saving again without saying keeps it shared; taking it back hides it from the team.
    assert save_view(engine, "dana", "refunds", {"tag": ["refund", "late"]}, now).shared
    share_view(engine, "dana", "refunds", False)
    assert [view.owner for view in team_views(engine, "vera")] == ["rick"]
    assert list_views(engine, "dana") == [
        SavedView("mine", {"assignee": "me"}),
        SavedView("refunds", {"tag": ["refund", "late"]}),
    ]
    with pytest.raises(SavedViewError, match="only a view's owner can share it"):
        share_view(engine, "vera", "refunds", True)
