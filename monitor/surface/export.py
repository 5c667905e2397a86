"""One export of stored mentions, for `grumble export` and the dashboard's download alike.

`id` is the source's id, as on import, so an export can be imported again; ours is `mention_id`.
JSONL keeps every value exactly. CSV is for spreadsheets, which run a cell that starts with = + - @
(or tab / carriage return) as a formula: such cells get a leading apostrophe (monitor/spreadsheet_guard.py),
which `grumble import` takes off again.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from monitor.spreadsheet_guard import guard

JSON_COLUMNS = ("metrics", "raw", "watches", "topics")


def exportable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"mention_id": row["id"], "id": row["external_id"]}
    for key, value in row.items():
        if key not in ("id", "external_id"):
            out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def write_jsonl(rows: Iterable[dict[str, Any]], handle: TextIO) -> int:
    count = 0
    for row in rows:
        handle.write(json.dumps(exportable(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def csv_rows(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        out = exportable(row)
        for key in JSON_COLUMNS:
            if out.get(key) is not None:
                out[key] = json.dumps(out[key], ensure_ascii=False)
        yield {key: guard(value) for key, value in out.items()}


def write_csv(rows: Iterable[dict[str, Any]], handle: TextIO) -> int:
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in csv_rows(rows):
        if writer is None:
            writer = csv.DictWriter(handle, fieldnames=list(row))
            writer.writeheader()
        writer.writerow(row)
        count += 1
    return count
