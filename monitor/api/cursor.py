"""A page's cursor: the position its last mention held (store/keyset.py), as an opaque URL-safe string.

Base64 of a small JSON array. It is not signed: it carries no right, only a place in the list, and the
caller's filter and role are applied to every page afresh, so an edited cursor only moves the place.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from monitor.store.keyset import KEYSET_SORTS, Position


class BadCursor(ValueError):
    pass


def encode(position: Position) -> str:
    data = [position.sort, position.rank_key, position.created_at.isoformat(), position.id]
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, sort: str) -> Position:
    """The position in `cursor`, which must come from a page in `sort`'s order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, rank_key, created_at, mention_id = json.loads(raw)
        position = Position(
            str(kind),
            None if rank_key is None else float(rank_key),
            datetime.fromisoformat(created_at),
            int(mention_id),
        )
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise BadCursor("it is not a cursor this API gave out; pass next_cursor unchanged") from None
    if position.sort not in KEYSET_SORTS or position.created_at.tzinfo is None:
        raise BadCursor("it is not a cursor this API gave out; pass next_cursor unchanged")
    if position.sort != sort:
        raise BadCursor(
            f"it continues a list sorted by {position.sort}, not {sort}; keep the same sort, or leave out "
            "the cursor to start from the top"
        )
    return position
