"""Read CSV and JSONL exports of reviews, tickets or surveys into Mentions.

A bad row is reported with its line number and skipped; every good row is kept. Invalid UTF-8 is
replaced (and reported), never a reason to drop a row. Rows without an id get one derived from their
content, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.errors import ImportFileError
from monitor.mention import Mention, utcnow
from monitor.sources.text import parse_time as read_time

FIELDS = ("id", "text", "author", "url", "created_at", "rating", "title", "source")
DEFAULT_SOURCE = "file"
MAX_FIELD_BYTES = 64 * 1024 * 1024

csv.field_size_limit(MAX_FIELD_BYTES)


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportBatch:
    mentions: list[Mention] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)


def column_map(overrides: Mapping[str, str]) -> dict[str, str]:
    """Our field -> the file's column. `overrides` come from `--column text=body`."""
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise ImportFileError(
            f"unknown field {unknown[0]!r} in a column mapping; fields are {', '.join(FIELDS)} "
            "(write --column FIELD=COLUMN, e.g. --column text=review_body)"
        )
    return {name: overrides.get(name, name) for name in FIELDS}


def parse_time(value: Any) -> datetime:
    """ISO 8601 (a trailing Z too), 'YYYY-MM-DD HH:MM[:SS]', or Unix seconds; naive means UTC.
    Anything else, or out of range, is a ValueError that names the value."""
    moment = read_time(value)
    if moment is None:
        raise ValueError(
            f"created_at {str(value).strip()[:60]!r} is not a date a post can have; "
            "use ISO 8601 like 2024-05-01T12:30:00Z or Unix seconds"
        )
    return moment


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def row_to_mention(row: Mapping[str, Any], columns: Mapping[str, str], source: str | None) -> Mention:
    """Raises ValueError with a message fit for the user when the row cannot be used."""
    text_column = columns["text"]
    if text_column not in row:
        raise ValueError(f"no {text_column!r} column (map another with --column text=COLUMN)")
    text = row[text_column]
    text = "" if text is None else str(text)
    raw_time = row.get(columns["created_at"])
    created_at = parse_time(raw_time) if raw_time not in (None, "") else utcnow()
    raw_rating = row.get(columns["rating"])
    rating: float | None = None
    if raw_rating not in (None, ""):
        try:
            rating = float(raw_rating)
        except (TypeError, ValueError):
            raise ValueError(f"rating {raw_rating!r} is not a number") from None
        # Stars decide a review's verdict (verdict.py): a 10-point or 0-100 scale would read as 5 stars.
        if not 1 <= rating <= 5:
            raise ValueError(f"rating {raw_rating!r} is not 1 to 5 stars; convert the scale before importing")
    author = _optional_text(row.get(columns["author"]))
    external_id = _optional_text(row.get(columns["id"]))
    if external_id is None:
        basis = json.dumps([text, author, str(raw_time)], ensure_ascii=False)
        external_id = "sha1:" + hashlib.sha1(basis.encode("utf-8", "surrogatepass")).hexdigest()
    url = _optional_text(row.get(columns["url"]))
    return Mention(
        source=source or _optional_text(row.get(columns["source"])) or DEFAULT_SOURCE,
        external_id=external_id,
        text=text,
        title=_optional_text(row.get(columns["title"])),
        author=author,
        url=url,
        created_at=created_at,
        rating=rating,
        raw=dict(row),
    )


def _decode(path: Path, batch: ImportBatch) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            batch.warnings.append(RowProblem(number, "invalid UTF-8 bytes replaced with \ufffd"))
    return data.decode("utf-8-sig", errors="replace")


def detect_format(path: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise ImportFileError(f"cannot tell the format of {path.name}; pass --format csv or --format jsonl")


def read_file(
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    source: str | None = None,
    file_format: str | None = None,
) -> ImportBatch:
    batch = ImportBatch()
    mapping = column_map(columns or {})
    fmt = detect_format(path, file_format)
    text = _decode(path, batch)
    rows = _jsonl_rows(text, batch) if fmt == "jsonl" else _csv_rows(text, path, batch)
    first_line: dict[tuple[str, str], int] = {}
    for line, row in rows:
        try:
            mention = row_to_mention(row, mapping, source)
        except ValueError as exc:
            batch.problems.append(RowProblem(line, str(exc)))
            continue
        key = (mention.source, mention.external_id)
        if key in first_line:
            batch.problems.append(
                RowProblem(
                    line,
                    f"id {mention.external_id!r} is already on line {first_line[key]}; that row is kept "
                    "and this one skipped (give each row its own id)",
                )
            )
            continue
        first_line[key] = line
        batch.mentions.append(mention)
    return batch


def _jsonl_rows(text: str, batch: ImportBatch) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            batch.problems.append(RowProblem(number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(row, dict):
            batch.problems.append(RowProblem(number, f"expected a JSON object, found {type(row).__name__}"))
            continue
        yield number, row


def _csv_rows(text: str, path: Path, batch: ImportBatch) -> Iterator[tuple[int, dict[str, Any]]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ImportFileError(f"{path}: cannot read the CSV header: {exc}") from None
    header = [name.strip() for name in header]
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            batch.problems.append(RowProblem(start, f"malformed CSV ({exc})"))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            batch.problems.append(
                RowProblem(line, f"expected {len(header)} fields as in the header, found {len(values)}")
            )
            continue
        yield line, dict(zip(header, values, strict=True))
