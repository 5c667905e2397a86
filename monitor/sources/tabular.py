"""Read CSV and JSONL exports of reviews, tickets or surveys into Mentions.

A bad row is reported with its line number and skipped; every good row is kept. Invalid UTF-8 is
replaced (and reported), never a reason to drop a row. Rows without an id get one derived from their
content, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from io import BufferedReader, TextIOWrapper
from pathlib import Path
from typing import Any, BinaryIO

from models.labels import LABELS
from monitor.errors import ImportFileError
from monitor.mention import Mention, utcnow
from monitor.sources import play_console
from monitor.sources.text import parse_time
from monitor.spreadsheet_guard import unguard

FIELDS = ("id", "text", "author", "url", "created_at", "rating", "title", "source", "label")
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
    # A person's label from the optional `label` column, by (source, external id): kept as a correction.
    labels: dict[tuple[str, str], str] = field(default_factory=dict)


def column_map(overrides: Mapping[str, str]) -> dict[str, str]:
    """Our field -> the file's column. `overrides` come from `--column text=body`."""
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise ImportFileError(
            f"unknown field {unknown[0]!r} in a column mapping; fields are {', '.join(FIELDS)} "
            "(write --column FIELD=COLUMN, e.g. --column text=review_body)"
        )
    return {name: overrides.get(name, name) for name in FIELDS}


EXPORTED_LABEL = (
    "the label column of a Grumble export is the model's verdict, not a person's: not kept as corrections "
    "(map a column of people's labels with --column label=COLUMN)"
)


def row_label(row: Mapping[str, Any], column: str) -> tuple[str | None, str | None]:
    """The row's `label` (negative, neutral or positive, any case): (the label, a problem to report).
    A bad value loses the label, never the row. A row of a Grumble export (it has a model_version)
    carries the model's label, which must not come back as a person's."""
    if column == "label" and row.get("model_version"):
        return None, EXPORTED_LABEL
    raw = row.get(column)
    if raw is None or str(raw).strip() == "":
        return None, None
    value = str(raw).strip().lower()
    if value in LABELS:
        return value, None
    shown = str(raw).strip()[:40]
    return None, (
        f"label {shown!r} is not negative, neutral or positive; the row is imported without a label "
        "(fix the value, or map another column with --column label=COLUMN)"
    )


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
    created_at = utcnow() if raw_time in (None, "") else parse_time(raw_time)
    if created_at is None:
        raise ValueError(
            f"created_at {str(raw_time).strip()[:60]!r} is not a date a post can have; "
            "use ISO 8601 like 2024-05-01T12:30:00Z or Unix seconds"
        )
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


def _lines(handle: BinaryIO, batch: ImportBatch) -> Iterator[str]:
    """The file's lines, decoded one at a time (a BOM dropped); invalid UTF-8 is replaced and reported."""
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            batch.warnings.append(RowProblem(number, "invalid UTF-8 bytes replaced with \ufffd"))
            yield raw.decode("utf-8", errors="replace")


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _utf16_lines(handle: BufferedReader) -> Iterator[str]:
    """A UTF-16 file's lines (Play Console exports are UTF-16): bytes that do not decode are replaced."""
    yield from TextIOWrapper(handle, encoding="utf-16", errors="replace", newline="")


def detect_format(path: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise ImportFileError(f"cannot tell the format of {path.name}; pass --format csv or --format jsonl")


def iter_file(
    path: Path,
    batch: ImportBatch,
    *,
    columns: Mapping[str, str] | None = None,
    source: str | None = None,
    file_format: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Mention]:
    """The file's good rows as Mentions, read as a stream (memory does not grow with the file);
    bad rows, repeated ids and invalid bytes are added to `batch`. `progress` gets the bytes read."""
    mapping = column_map(columns or {})
    fmt = detect_format(path, file_format)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        lines = _utf16_lines(handle) if handle.peek(2)[:2] in UTF16_BOMS else _lines(handle, batch)
        rows = _jsonl_rows(lines, batch) if fmt == "jsonl" else _csv_rows(lines, path, batch)
        first_line: dict[tuple[str, str], int] = {}
        exported_said = False
        for line, row in rows:
            if progress is not None:
                progress(handle.tell())
            try:
                if fmt == play_console.FORMAT or (fmt == "csv" and play_console.looks_like_play_console(row)):
                    mention = play_console.row_to_mention(row)  # its own columns; always google_play
                else:
                    mention = row_to_mention(row, mapping, source)
            except ValueError as exc:
                batch.problems.append(RowProblem(line, str(exc)))
                continue
            key = (mention.source, mention.external_id)
            if key in first_line:
                batch.problems.append(
                    RowProblem(
                        line,
                        f"id {mention.external_id!r} is already on line {first_line[key]}; that row is "
                        "kept and this one skipped (give each row its own id)",
                    )
                )
                continue
            first_line[key] = line
            label, problem = row_label(row, mapping["label"])
            if problem is not None and not (problem == EXPORTED_LABEL and exported_said):
                batch.warnings.append(RowProblem(line, problem))
                exported_said = exported_said or problem == EXPORTED_LABEL  # said once, not per row
            elif label is not None:
                batch.labels[key] = label
            yield mention


def read_file(
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    source: str | None = None,
    file_format: str | None = None,
) -> ImportBatch:
    """The whole file at once, for small files and tests (`grumble import` streams it: file_import.py)."""
    batch = ImportBatch()
    batch.mentions = list(iter_file(path, batch, columns=columns, source=source, file_format=file_format))
    return batch


# Deeper than any export a person writes; deep enough nesting stops the JSON parser and, stored in
# `raw`, every later reader of the row: one such line is one reported row, not an aborted import.
MAX_JSON_DEPTH = 64


def _depth_over(value: Any, limit: int) -> bool:
    """Whether `value` nests containers more than `limit` deep (without recursing: the point is depth)."""
    level: list[Any] = [value]
    for _ in range(limit + 1):
        children = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
        ]
        if not children:
            return False
        level = [child for child in children if isinstance(child, dict | list)]
        if not level:
            return False
    return True


def _jsonl_rows(lines: Iterator[str], batch: ImportBatch) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            batch.problems.append(RowProblem(number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except RecursionError:
            row = None  # nested past the parser's limit: reported below with the rows nested too deep
        if row is None or _depth_over(row, MAX_JSON_DEPTH):
            batch.problems.append(
                RowProblem(
                    number,
                    f"JSON nested more than {MAX_JSON_DEPTH} levels deep; a mention is a flat object "
                    "(text, author, created_at...): flatten the line or leave the nested part out",
                )
            )
            continue
        if not isinstance(row, dict):
            batch.problems.append(RowProblem(number, f"expected a JSON object, found {type(row).__name__}"))
            continue
        yield number, row


def _csv_rows(lines: Iterator[str], path: Path, batch: ImportBatch) -> Iterator[tuple[int, dict[str, Any]]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(lines, delimiter=delimiter)
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
        # Undo the formula guard `grumble export` puts on cells, so an export imports back as it was.
        yield line, dict(zip(header, (unguard(value) for value in values), strict=True))
