"""Saved inbox views: per user, replaced by name, limited, refused without a name (on PostgreSQL too)."""

import pytest
from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.store import saved_views
from monitor.store.saved_views import SavedView, SavedViewError, delete_view, list_views, save_view


@pytest.mark.both_databases
def test_views_are_kept_per_user_and_replaced_by_name(engine: Engine) -> None:
    now = utcnow()
    save_view(engine, "rick", "refunds", {"q": "refund", "source": ["reddit", "appstore"]}, now)
    save_view(engine, "rick", "  all   handled ", {"show": "handled"}, now)
    save_view(engine, "vera", "refunds", {"q": "money"}, now)
    save_view(engine, "rick", "refunds", {"q": "refund", "sort": "newest"}, now)  # replaced
    assert list_views(engine, "rick") == [
        SavedView("all handled", {"show": "handled"}),
        SavedView("refunds", {"q": "refund", "sort": "newest"}),
    ]
    assert list_views(engine, "vera") == [SavedView("refunds", {"q": "money"})]
    delete_view(engine, "rick", "refunds")
    assert [view.name for view in list_views(engine, "rick")] == ["all handled"]
    assert list_views(engine, "vera") != []


def test_a_view_needs_a_short_name_and_there_is_a_limit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SavedViewError, match="needs a name"):
        save_view(engine, "rick", " \t", {}, utcnow())
    with pytest.raises(SavedViewError, match="at most 80 characters; found 81"):
        save_view(engine, "rick", "x" * 81, {}, utcnow())
    monkeypatch.setattr(saved_views, "MAX_VIEWS", 2)
    save_view(engine, "rick", "one", {}, utcnow())
    save_view(engine, "rick", "two", {}, utcnow())
    save_view(engine, "rick", "two", {"q": "x"}, utcnow())  # replacing one is fine
    with pytest.raises(SavedViewError, match="you have 2 saved views"):
        save_view(engine, "rick", "three", {}, utcnow())
