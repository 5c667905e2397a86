"""One very long mention (a hostile feed item, a pasted log, a huge import row) is stored bounded, its
whole text kept apart for download, and never sent whole to a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from monitor.collect.file_import import import_file
from monitor.mention import MAX_RAW_STRING, MAX_TEXT_CHARS
from monitor.store.filters import MentionFilter
from monitor.store.inbox import ranked
from monitor.store.mentions import full_text
from tests.factories import mention

MEGABYTE_POST = "my order never arrived and support ignores me. " * 22_000  # about 1 MB


def test_a_mention_longer_than_the_bound_is_cut_and_keeps_its_whole_text() -> None:
    long = mention(
        1, text=MEGABYTE_POST, raw={"body": MEGABYTE_POST, "id": "x", "nested": [{"html": MEGABYTE_POST}]}
    )
    assert len(long.text) == MAX_TEXT_CHARS and long.full_text == MEGABYTE_POST
    assert long.raw is not None and long.raw["id"] == "x"
    assert len(long.raw["body"]) < MAX_RAW_STRING + 100 and "more characters]" in long.raw["body"]
    assert len(long.raw["nested"][0]["html"]) < MAX_RAW_STRING + 100
    short = mention(2, text="fine", raw={"body": "fine"})
    assert short.full_text is None and short.raw == {"body": "fine"}


@pytest.mark.both_databases
def test_an_imported_megabyte_row_is_stored_bounded_and_downloadable_whole(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.jsonl"
    rows = [{"id": "big", "text": MEGABYTE_POST}, {"id": "small", "text": "the app crashes on login"}]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    report = import_file(engine, "acme", path)
    assert (report.read, report.new, report.problems) == (2, 2, [])
    stored = {row["external_id"]: row for row in ranked(engine, MentionFilter(), sort="newest")}
    assert len(stored["big"]["text"]) == MAX_TEXT_CHARS
    assert len(json.dumps(stored["big"]["raw"])) < 2 * MAX_RAW_STRING  # the list reads no megabytes
    assert full_text(engine, stored["big"]["id"]) == MEGABYTE_POST
    assert full_text(engine, stored["small"]["id"]) is None
