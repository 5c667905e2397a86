"""Two people opening the same mention's case: one case, one "opened" event, on both databases.

On PostgreSQL an INSERT that ON CONFLICT skipped used to read as inserted (rowcount -1 through implicit
RETURNING), so the second opener audited a second opening of the same case."""

from __future__ import annotations

import pytest

from monitor.respond.cases import open_case
from monitor.store.triage import history
from tests.respond.conftest import SETTINGS, Store


@pytest.mark.both_databases
def test_a_second_opener_joins_the_case_without_a_second_opening(store: Store) -> None:
    first = open_case(store.engine, store.ids["reddit"], "sam", SETTINGS)
    second = open_case(store.engine, store.ids["reddit"], "rick", SETTINGS)

    assert second.id == first.id
    openings = [e for e in history(store.engine, store.ids["reddit"]) if e.action == "case"]
    assert [e.actor for e in openings] == ["sam"]
