"""One export for the command line and the dashboard: CSV safe in a spreadsheet, JSONL exact."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import Engine

from dashboard.export import view_as_csv
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.surface.export import write_csv, write_jsonl
from tests.factories import mention

FORMULAS = {
    "f1": '=HYPERLINK("https://evil.example","click")',
    "f2": "+1+cmd|' /C calc'!A0",
    "f3": "-2+3",
    "f4": "@SUM(1+1)",
    "f5": "\tleading tab",
    "f6": "\rcarriage return",
}


def store(engine: Engine) -> None:
    import_mentions(
        engine,
        "acme",
        [
            *(mention(i, external_id=key, text=value) for i, (key, value) in enumerate(FORMULAS.items())),
            mention(9, external_id="plain", text="plain text - with a dash", author="=evil()"),
        ],
    )


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(sqlite_engine: Engine) -> None:
    store(sqlite_engine)
    buffer = io.StringIO()
    assert write_csv(iter_all(sqlite_engine, MentionFilter()), buffer) == 7
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(buffer.getvalue()))}
    for key, value in FORMULAS.items():
        assert rows[key]["text"] == "'" + value
    assert rows["plain"]["text"] == "plain text - with a dash"
    assert rows["plain"]["author"] == "'=evil()"
    assert json.loads(rows["plain"]["watches"]) == ["acme"]


def test_jsonl_stays_exact(sqlite_engine: Engine) -> None:
    store(sqlite_engine)
    buffer = io.StringIO()
    write_jsonl(iter_all(sqlite_engine, MentionFilter()), buffer)
    rows = {row["id"]: row for row in map(json.loads, buffer.getvalue().splitlines())}
    assert {key: rows[key]["text"] for key in FORMULAS} == FORMULAS
    assert rows["plain"]["author"] == "=evil()" and rows["plain"]["mention_id"] >= 1


def test_the_dashboard_download_is_the_same_export(sqlite_engine: Engine) -> None:
    store(sqlite_engine)
    buffer = io.StringIO()
    write_csv(iter_all(sqlite_engine, MentionFilter()), buffer)
    assert view_as_csv(sqlite_engine, MentionFilter()) == buffer.getvalue()
