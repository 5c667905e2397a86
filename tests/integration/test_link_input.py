"""Crafted links and text boxes reach the store cleaned (store/link_input.py), on both databases: they
crashed pages with tracebacks naming SQL and server paths."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.store.filters import MentionFilter
from monitor.store.inbox import count, ranked
from monitor.store.link_input import MAX_SEARCH_CHARS, row_id, search_text
from monitor.store.mentions import import_mentions
from monitor.store.saved_views import list_views, save_view
from tests.factories import mention


@pytest.mark.both_databases
def test_a_huge_search_or_one_with_a_nul_finds_what_it_can_instead_of_failing(engine: Engine) -> None:
    import_mentions(engine, "acme", [mention(1, text="refund please"), mention(2, text="all good")])
    for search in ("refund" + "x" * 52_000, "ref\x00und", "%" * 60_000):
        where = MentionFilter(search=search)
        rows = ranked(engine, where, sort="newest")  # SQLite: "pattern too complex"; PG: NUL
        count(engine, where)
        assert all("refund" in row["text"] for row in rows) or not rows
    assert [row["text"] for row in ranked(engine, MentionFilter(search="ref\x00und"))] == ["refund please"]


@pytest.mark.both_databases
def test_a_saved_view_name_with_a_nul_is_saved_without_it(engine: Engine) -> None:
    save_view(engine, "dana", "over\x00due", {"q": "refund"}, utcnow())
    assert [view.name for view in list_views(engine, "dana")] == ["overdue"]


def test_what_a_link_may_hand_the_store() -> None:
    assert search_text("  a\x00b\x07c  ") == "abc"
    assert search_text("\x00 ") is None
    assert len(search_text("y" * 100_000) or "") == MAX_SEARCH_CHARS
    assert row_id("42") == 42
    for not_an_id in ("²", "٣", str(2**70), "-1", "4 2", "", "0x10"):
        assert row_id(not_an_id) is None, not_an_id
