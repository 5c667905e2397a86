"""What a link or a text box may hand the store, made safe at one place.

Anyone can craft a dashboard link. PostgreSQL refuses a NUL in text, SQLite refuses a LIKE pattern over
50,000 bytes ("pattern too complex"), and both refuse an id wider than 64 bits; any of those reached a
browser as a traceback naming SQL and server paths. Values are cleaned here, not rejected: a search with
a stray control character still finds what it can, and an id that cannot exist finds nothing.
"""

from __future__ import annotations

import re

# Longer than any search a person types; far under SQLite's pattern limit.
MAX_SEARCH_CHARS = 300
AUTHOR_CHARS = 256  # the stored author column's width
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Decimal ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses.
_ID = re.compile(r"[0-9]{1,18}")


def clean_text(value: str, limit: int) -> str:
    """`value` without NUL and other control characters, cut to `limit` characters, trimmed."""
    return _CONTROL.sub("", value)[:limit].strip()


def search_text(value: str | None) -> str | None:
    """A search as the store runs it; None when nothing is left to search for."""
    if value is None:
        return None
    return clean_text(value, MAX_SEARCH_CHARS) or None


def row_id(value: str) -> int | None:
    """A stored row's id from a link ("?id=42"), or None when the text cannot be one."""
    value = value.strip()
    return int(value) if _ID.fullmatch(value) else None
