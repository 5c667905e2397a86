"""What a source does to a mention already stored: an edit is a compare-and-set that keeps the earlier
version (mention_versions) and clears the score; a deletion marks the row. Each leaves an event by
SOURCE_ACTOR. store_mentions (store/mentions.py) finds the edits; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select, update

from monitor.errors import StoreError
from monitor.mention import utcnow
from monitor.store.mention_tables import SCORE_COLUMNS
from monitor.store.schema import mention_versions, mentions
from monitor.store.triage import record_event

# The actor of the events a source causes (an edit, a deletion), as a person's name is of theirs.
SOURCE_ACTOR = "source"

# What makes a re-delivered mention an edit; the rest (reach, engagement) moves on every fetch.
CONTENT_COLUMNS = ("text", "title", "rating", "language")


@dataclass(frozen=True)
class Edit:
    """A stored mention whose content the source changed: `changes` says what, for people
    ("rating 4 -> 1", "text changed")."""

    mention_id: int
    version: int  # the number its previous version was kept under (1 for the first edit)
    changes: str
    rating_before: float | None
    rating_after: float | None
    by_author: bool  # the text, title or rating changed (not only the language the source reports)


def _shown_rating(rating: float | None) -> str:
    if rating is None:
        return "none"
    return f"{rating:g}"


def _changes(stored: Any, incoming: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The content fields that differ. A source that leaves title, rating or language out (None) says
    nothing about them: only a value it gives can differ; the text is always given."""
    changed: dict[str, tuple[Any, Any]] = {}
    for column in CONTENT_COLUMNS:
        before, after = getattr(stored, column), incoming[column]
        if column != "text" and after is None:
            continue
        if before != after:
            changed[column] = (before, after)
    return changed


def describe_changes(changed: dict[str, tuple[Any, Any]]) -> str:
    """For people: "rating 4 -> 1; text changed"."""
    parts = []
    for column, (before, after) in changed.items():
        if column == "rating":
            parts.append(f"rating {_shown_rating(before)} -> {_shown_rating(after)}")
        elif column == "language":
            parts.append(f"language {before or 'unknown'} -> {after}")
        else:
            parts.append(f"{column} changed")
    return "; ".join(parts)


_EDIT_COLUMNS = ("id", "external_id", "text", "title", "rating", "language", "raw", "collected_at")
# Another writer editing the same mention between our read and our write is rare (a stream and a poll
# of one post); a few tries settle it, and more would mean a bug, not a race.
EDIT_ATTEMPTS = 5


def _stored_rows(connection: Connection, where: ColumnElement[bool]) -> list[Any]:
    # Not locked: an edit is a compare-and-set (`_swap`), so a page that overlaps another writer's
    # rows never waits on them, and two writers locking overlapping pages cannot deadlock.
    c = mentions.c
    return list(connection.execute(select(*(c[name] for name in _EDIT_COLUMNS)).where(where).order_by(c.id)))


def _swap(connection: Connection, stored: Any, values: dict[str, Any]) -> bool:
    """Write `values` only if the row still says what `stored` read (compare-and-set): a writer that
    edited it since makes this a no-op, and the caller reads the row again. A swap that worked holds
    the row until the transaction ends, so the version number taken next is this writer's alone."""
    c = mentions.c
    same = [c[name].is_not_distinct_from(getattr(stored, name)) for name in CONTENT_COLUMNS]
    result = connection.execute(update(mentions).where(c.id == stored.id, *same).values(values))
    return result.rowcount == 1


def _apply_edit(connection: Connection, stored: Any, incoming: dict[str, Any], now: datetime) -> Edit | None:
    for _ in range(EDIT_ATTEMPTS):
        changed = _changes(stored, incoming)
        if not changed:
            return None  # a re-delivery (at-least-once stream, a page fetched twice): nothing to do
        values: dict[str, Any] = {column: after for column, (_, after) in changed.items()}
        # The new version's surroundings come with it; its score is cleared, so the scoring job reads
        # the new text and the verdict rule sees the new stars (scored_at NULL is what it looks for).
        values.update(
            raw=incoming["raw"],
            metrics=incoming["metrics"],
            author_reach=incoming["author_reach"],
            engagement=incoming["engagement"],
            collected_at=now,  # when this version arrived: the wait for its score runs from here
            **{column: None for column in SCORE_COLUMNS},
        )
        if _swap(connection, stored, values):
            break
        [stored] = _stored_rows(connection, mentions.c.id == stored.id)
    else:
        raise StoreError(
            f"mention {stored.id} ({stored.external_id}) kept changing while an edit was stored; "
            f"{EDIT_ATTEMPTS} tries failed"
        )
    # Numbered after the swap, which holds the row: two writers never take the same number.
    version = 1 + int(
        connection.scalar(
            select(func.coalesce(func.max(mention_versions.c.version), 0)).where(
                mention_versions.c.mention_id == stored.id
            )
        )
        or 0
    )
    connection.execute(
        mention_versions.insert().values(
            mention_id=stored.id,
            version=version,
            text=stored.text,
            title=stored.title,
            rating=stored.rating,
            language=stored.language,
            raw=stored.raw,
            seen_at=stored.collected_at,
            replaced_at=now,
        )
    )
    changes = describe_changes(changed)
    record_event(connection, stored.id, "edited", None, None, SOURCE_ACTOR, now, changes)
    return Edit(
        stored.id,
        version,
        changes,
        stored.rating,
        values.get("rating", stored.rating),
        by_author=bool(changed.keys() - {"language"}),
    )


def mark_deleted(
    connection: Connection, source: str, external_ids: Sequence[str], now: datetime | None = None
) -> int:
    """Mark the stored mentions with these ids deleted by their authors (they leave the inbox; the row,
    its case and its history stay), each with a "deleted" event. Ids never stored, and mentions already
    marked, are left alone; returns how many were newly marked. The caller owns the transaction."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return 0
    now = now or utcnow()
    c = mentions.c
    ids = list(
        connection.scalars(
            select(c.id)
            .where(c.source == source, c.external_id.in_(wanted), c.deleted_at.is_(None))
            .order_by(c.id)
            .with_for_update(of=mentions)
        )
    )
    if not ids:
        return 0
    connection.execute(update(mentions).where(c.id.in_(ids), c.deleted_at.is_(None)).values(deleted_at=now))
    for mention_id in ids:
        record_event(
            connection, mention_id, "deleted", None, None, SOURCE_ACTOR, now, "the author deleted it"
        )
    return len(ids)
