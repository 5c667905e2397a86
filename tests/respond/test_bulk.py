"""Acting on a selection, and undoing a mark: every mention through the one transition table, each with
its audit events; undo puts the mention and its case back where they were (on PostgreSQL too)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.errors import CaseError
from monitor.mention import utcnow
from monitor.respond.bulk import assign_all, mark, relabel_all, tag_all, undo
from monitor.respond.cases import open_case, set_status
from monitor.store.cases import find_case, update_case
from monitor.store.triage import TriageError
from tests.respond.conftest import SETTINGS, Store, trail


def _case_status(store: Store, key: str) -> str | None:
    case = find_case(store.engine, store.ids[key])
    return None if case is None else case.status


@pytest.mark.both_databases
def test_mark_then_undo_restores_each_mention_and_case(store: Store) -> None:
    in_progress = open_case(store.engine, store.ids["reddit"], "sam", SETTINGS)
    set_status(store.engine, in_progress.id, "in_progress", "sam")
    replied = open_case(store.engine, store.ids["mastodon"], "sam", SETTINGS)
    with store.engine.begin() as connection:  # as a posted reply leaves it
        update_case(connection, replied.id, status="replied")
    mark(store.engine, [store.ids["bluesky"]], "handled", "sam")  # already handled before the bulk mark

    selection = [store.ids[k] for k in ("reddit", "mastodon", "bluesky", "appstore")]
    befores = mark(store.engine, selection, "dismissed", "rick")
    assert [(b.triage, b.case_status) for b in befores] == [
        ("open", "in_progress"),
        ("open", "replied"),
        ("handled", None),
        ("open", None),
    ]
    assert {_case_status(store, k) for k in ("reddit", "mastodon")} == {"dismissed"}

    undo(store.engine, befores, "rick")
    assert [_case_status(store, k) for k in ("reddit", "mastodon", "bluesky", "appstore")] == [
        "in_progress",
        "replied",  # a status no one sets by hand, put back all the same
        None,
        None,
    ]
    assert trail(store, "mastodon")[-4:] == [
        ("triage", "open", "dismissed", "rick"),
        ("status", "replied", "dismissed", "rick"),
        ("status", "dismissed", "replied", "rick"),
        ("triage", "dismissed", "open", "rick"),
    ]
    assert trail(store, "bluesky")[-2:] == [
        ("triage", "handled", "dismissed", "rick"),
        ("triage", "dismissed", "handled", "rick"),
    ]
    # Undoing twice changes nothing more.
    events = len(trail(store, "reddit"))
    undo(store.engine, befores, "rick")
    assert len(trail(store, "reddit")) == events


@pytest.mark.both_databases
def test_a_selection_with_an_unknown_mention_changes_nothing(store: Store) -> None:
    with pytest.raises(TriageError, match="no mention with id 999999"):
        mark(store.engine, [store.ids["reddit"], 999999], "handled", "rick")
    assert trail(store, "reddit") == []


def test_assign_tag_and_relabel_open_cases_where_needed(store: Store) -> None:
    ids = [store.ids["reddit"], store.ids["appstore"]]
    existing = open_case(store.engine, ids[0], "sam", SETTINGS)
    assign_all(store.engine, ids, "dana", "rick", SETTINGS)
    tag_all(store.engine, ids, "refund", "rick", SETTINGS)
    tag_all(store.engine, ids, "Refund", "rick", SETTINGS)  # already there: no change
    for key in ("reddit", "appstore"):
        case = find_case(store.engine, store.ids[key])
        assert case is not None and (case.assignee, case.tags) == ("dana", ("refund",))
    assert find_case(store.engine, ids[0]).id == existing.id  # type: ignore[union-attr]
    assert [a for a, *_ in trail(store, "appstore")] == ["case", "assign", "tags"]
    with pytest.raises(CaseError, match="a tag needs some text"):
        tag_all(store.engine, [store.ids["mastodon"]], "   ", "rick", SETTINGS)
    assert find_case(store.engine, store.ids["mastodon"]) is None
    relabel_all(store.engine, ids, "neutral", "rick")
    assert trail(store, "appstore")[-1] == ("relabel", "negative", "neutral", "rick")


@pytest.mark.both_databases
def test_undoing_a_reopen_gives_the_case_back_its_own_resolution_time(store: Store) -> None:
    resolved_at = utcnow().replace(microsecond=0) + timedelta(hours=3)
    case = open_case(store.engine, store.ids["reddit"], "sam", SETTINGS)
    set_status(store.engine, case.id, "resolved", "sam", now=resolved_at)
    resolved = find_case(store.engine, store.ids["reddit"])
    assert resolved is not None and resolved.resolved_at == resolved_at

    befores = mark(store.engine, [store.ids["reddit"]], "open", "rick", now=resolved_at + timedelta(days=1))
    reopened = find_case(store.engine, store.ids["reddit"])
    assert reopened is not None and reopened.status == "in_progress" and reopened.resolved_at is None

    undo(store.engine, befores, "rick", now=resolved_at + timedelta(days=2))
    restored = find_case(store.engine, store.ids["reddit"])
    assert restored is not None and restored.status == "resolved"
    # The undo is not a second resolution: the time it took to resolve stays what it was.
    assert restored.resolved_at == resolved_at
    assert restored.time_to_resolution == resolved.time_to_resolution
