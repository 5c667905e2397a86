"""Small, forgiving readers for the values APIs send: HTML bodies, timestamps, counts.

They return None instead of raising, because a payload years older or newer than the code is normal:
a source decides for itself whether a missing value makes the item unusable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

_BLOCK_TAGS = {"p", "br", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text from an HTML fragment: paragraphs become line breaks, entities are decoded."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    text = html.unescape("".join(collector.parts))
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_time(value: Any) -> datetime | None:
    """The one reader of a moment Grumble is given, by an API, a file or an option: a timezone-aware UTC
    datetime from epoch seconds (a number or a numeric string) or ISO 8601 (a trailing Z, a space for
    the T, a date alone; naive means UTC). None if unreadable or out of the range a datetime can hold
    (1e20, year 0 in UTC): the caller says what that means (a source skips the item, the importer
    reports the row, `--since` refuses the option)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text))
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python < 3.11 style limits do not apply, but some servers send 7+ fractional digits.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
        # 0001-01-01T00:00:00+05:00 is a valid local time whose UTC falls before year 1.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_EPOCH_TEXT = re.compile(r"\d+(?:\.\d+)?")


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def as_int(value: Any) -> int | None:
    """An integer from an int, a float or a numeric string ("592.0"); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def as_str(value: Any) -> str | None:
    """A non-empty string, or None. Numbers (ids sent as numbers) become strings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def dig(data: Any, *keys: str | int) -> Any:
    """data[k1][k2]... or None where any step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or not -len(data) <= key < len(data):
                return None
            data = data[key]
        else:
            if not isinstance(data, Mapping):
                return None
            data = data.get(key)
    return data


def as_mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is a JSON object, else an empty one: for optional nested objects."""
    return value if isinstance(value, Mapping) else {}


def total(*values: int | None) -> int | None:
    """The sum of the counts the API gave; None when it gave none of them."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def metrics(**values: int | None) -> dict[str, int]:
    return {name: value for name, value in values.items() if value is not None}
