"""Writing and reading mentions: idempotent inserts (an edit of a stored one goes through store/edits.py),
the whole texts of cut ones, scores, and the queries the views share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    select,
    text,
    update,
)

from monitor.mention import Mention, utcnow
from monitor.store.authors import vip_flag
from monitor.store.edits import Edit, _apply_edit, _stored_rows
from monitor.store.engine import dialect_insert
from monitor.store.filters import MentionFilter, filtered, watch_names

# Re-exported: the scoring job, its tests and bench/score.py name it from here.
from monitor.store.mention_tables import SCORE_COLUMNS as SCORE_COLUMNS
from monitor.store.schema import (
    label_feedback,
    mention_full_texts,
    mention_watches,
    mentions,
)

# Columns a Mention carries, in the order of its fields: the export writes them in this order too.
MENTION_COLUMNS = (
    "source",
    "external_id",
    "text",
    "created_at",
    "author",
    "url",
    "title",
    "author_reach",
    "engagement",
    "rating",
    "parent_id",
    "language",
    "metrics",
    "raw",
)


def _row(mention: Mention, collected_at: datetime) -> dict[str, Any]:
    row = {column: getattr(mention, column) for column in MENTION_COLUMNS}
    row["metrics"] = dict(mention.metrics) or None
    row["raw"] = dict(mention.raw) if mention.raw is not None else None
    # NUL bytes are valid in Python strings but rejected by PostgreSQL text columns.
    for key in ("text", "title", "author", "url"):
        if isinstance(row[key], str):
            row[key] = row[key].replace("\x00", "\ufffd")
    row["collected_at"] = collected_at
    return row


@dataclass(frozen=True)
class Stored:
    """What storing a batch (or a page) did: how many mentions were new, which stored ones were edited,
    and how many stored ones were newly marked deleted."""

    new: int = 0
    edits: tuple[Edit, ...] = ()
    deleted: int = 0

    @property
    def edited(self) -> int:
        return len(self.edits)


def store_mentions(
    connection: Connection, watch: str, batch: Sequence[Mention], now: datetime | None = None
) -> Stored:
    """Store each mention once and link it to `watch`. A mention already stored whose text, title,
    rating or language changed is an edit: its previous version goes to `mention_versions`, the row is
    updated in place with its score cleared, and an "edited" event says what changed. One stored with
    the same content is left as it is (no version, no event).

    The caller owns the transaction."""
    if not batch:
        return Stored()
    unique = {(m.source, m.external_id): m for m in batch}  # the last delivery of an id in a batch wins
    now = now or utcnow()
    insert = dialect_insert(connection)
    new = 0
    edits: list[Edit] = []
    for source in sorted({key[0] for key in unique}):
        ids = [key[1] for key in unique if key[0] == source]
        c = mentions.c
        existing = {
            row.external_id: row
            for row in _stored_rows(connection, (c.source == source) & c.external_id.in_(ids))
        }
        rows = [_row(unique[(source, i)], now) for i in ids if i not in existing]
        if rows:
            # ON CONFLICT covers a concurrent writer (another watch's collection of the same item) that
            # inserted between our SELECT and this INSERT. Counted by what RETURNING gives back, the
            # rows this INSERT made: a batched insert's rowcount is -1 on PostgreSQL, and counting the
            # rows sent instead made both writers count the item as new.
            result = connection.execute(
                insert(mentions)
                .on_conflict_do_nothing(index_elements=["source", "external_id"])
                .returning(mentions.c.id),
                rows,
            )
            new += len(result.all())
        for external_id, stored in existing.items():
            edit = _apply_edit(connection, stored, _row(unique[(source, external_id)], now), now)
            if edit is not None:
                edits.append(edit)
        stored_ids = {
            external_id: mention_id
            for external_id, mention_id in connection.execute(
                select(mentions.c.external_id, mentions.c.id).where(
                    mentions.c.source == source, mentions.c.external_id.in_(ids)
                )
            )
        }
        _keep_full_texts(connection, {stored_ids[i]: unique[(source, i)] for i in ids if i in stored_ids})
        links = [{"mention_id": mention_id, "watch": watch} for mention_id in stored_ids.values()]
        if links:
            connection.execute(
                insert(mention_watches).on_conflict_do_nothing(index_elements=["mention_id", "watch"]), links
            )
    return Stored(new, tuple(edits))


def _keep_full_texts(connection: Connection, by_id: dict[int, Mention]) -> None:
    """The whole text of each mention whose text was cut (Mention.full_text), for its download; a later
    version of it replaces the earlier one."""
    cut = {mention_id: m.full_text for mention_id, m in by_id.items() if m.full_text is not None}
    if not cut:
        return
    connection.execute(delete(mention_full_texts).where(mention_full_texts.c.mention_id.in_(list(cut))))
    connection.execute(
        mention_full_texts.insert(),
        [
            {"mention_id": mention_id, "text": whole.replace("\x00", "\ufffd"), "characters": len(whole)}
            for mention_id, whole in cut.items()
        ],
    )


def full_text(engine: Engine, mention_id: int) -> str | None:
    """The whole text of a mention whose stored text was cut (mention.MAX_TEXT_CHARS); None otherwise."""
    with engine.connect() as connection:
        return connection.scalar(
            select(mention_full_texts.c.text).where(mention_full_texts.c.mention_id == mention_id)
        )


def insert_mentions(connection: Connection, watch: str, batch: Sequence[Mention]) -> int:
    """`store_mentions`, returning how many were new. The caller owns the transaction."""
    return store_mentions(connection, watch, batch).new


def import_mentions(engine: Engine, watch: str, batch: Sequence[Mention]) -> int:
    with engine.begin() as connection:
        return insert_mentions(connection, watch, batch)


@dataclass(frozen=True)
class PendingText:
    """A mention waiting for a score, with what its priority needs besides the score."""

    id: int
    text: str
    created_at: datetime
    author_reach: int | None = None
    engagement: int | None = None
    rating: float | None = None
    language: str | None = None  # as the source declared it (detection may find none)
    # For the scoring metrics: per source, and the wait from arrival to a first score.
    source: str = ""
    collected_at: datetime | None = None
    scored_before: bool = False  # a rescore
    vip: bool = False  # the author is marked VIP on this source (store/authors.py)


def scoring_text(title: str | None, text: str) -> str:
    # A submission's title often carries the complaint ("Acme charged me twice"); score both.
    return f"{title}\n{text}" if title else text


def pending_columns() -> tuple[Any, ...]:
    """What scoring reads of a mention (`pending_rows` turns the rows into PendingText)."""
    c = mentions.c
    return (
        c.id,
        c.title,
        c.text,
        c.created_at,
        c.author_reach,
        c.engagement,
        c.rating,
        c.language,
        c.source,
        c.collected_at,
        c.scored_at,
        vip_flag(),
    )


def _pending_query(limit: int, model_version: str | None, after: int) -> Select[Any]:
    """Mentions without a score, or (with `model_version`) scored by another version, from id `after` on.

    Keyset paging (`id > after`, in id order): each batch starts where the last one ended, so a rescore
    of a million mentions walks the primary key once instead of rescanning from the lowest id."""
    condition: ColumnElement[bool] = mentions.c.scored_at.is_(None)
    if model_version is not None:
        # A label a person corrected stays: a new model version does not overrule them.
        corrected = select(label_feedback.c.mention_id)
        condition = condition | (
            (mentions.c.model_version != model_version) & mentions.c.id.not_in(corrected)
        )
    c = mentions.c
    return select(*pending_columns()).where(condition, c.id > after).order_by(c.id).limit(limit)


def pending_rows(connection: Connection, query: Select[Any]) -> list[PendingText]:
    return [
        PendingText(
            row.id,
            scoring_text(row.title, row.text),
            row.created_at,
            row.author_reach,
            row.engagement,
            row.rating,
            row.language,
            row.source,
            row.collected_at,
            row.scored_at is not None,
            bool(row.vip),
        )
        for row in connection.execute(query)
    ]


def unscored(
    engine: Engine, limit: int, model_version: str | None = None, *, after: int = 0
) -> list[PendingText]:
    """Mentions waiting for a score (see `_pending_query`), oldest first, without claiming them."""
    with engine.connect() as connection:
        return pending_rows(connection, _pending_query(limit, model_version, after))


def claim_unscored(
    connection: Connection, limit: int, model_version: str | None = None, *, after: int = 0
) -> list[PendingText]:
    """Like `unscored`, but claimed for the caller's transaction, which must write their scores.

    On PostgreSQL the rows are locked (FOR UPDATE SKIP LOCKED) until that transaction ends: another
    scorer skips them and takes the next free ones, and a scorer that dies mid-batch rolls back,
    which frees its batch for the next. SQLite ignores the clause: it has one writer at a time, and
    two scorers there at worst score a batch twice with the same result."""
    query = _pending_query(limit, model_version, after).with_for_update(skip_locked=True, of=mentions)
    return pending_rows(connection, query)


def write_scores(connection: Connection, scores: Sequence[dict[str, Any]]) -> None:
    """`scores`: dicts with `id` and every SCORE_COLUMNS key. The caller owns the transaction."""
    if not scores:
        return
    statement = (
        update(mentions)
        .where(mentions.c.id == bindparam("mention_id"))
        .values({column: bindparam(f"v_{column}") for column in SCORE_COLUMNS})
    )
    params = [{"mention_id": s["id"], **{f"v_{c}": s.get(c) for c in SCORE_COLUMNS}} for s in scores]
    connection.execute(statement, params)


def save_scores(engine: Engine, scores: Sequence[dict[str, Any]]) -> None:
    """`scores`: dicts with `id` and every SCORE_COLUMNS key, written in one transaction."""
    if not scores:
        return
    with engine.begin() as connection:
        write_scores(connection, scores)


def iter_all(engine: Engine, where: MentionFilter, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    """Every stored field of every matching mention, its watches and complaint topics included, in id
    order, in chunks. `topic_id`/`topic`: its topic in its first watch (by name) that has one;
    `topics`: every watch's, as [{"watch", "id", "name"}]."""
    from monitor.store.topics import topics_of  # store/topics.py reads scoring_text from here

    last_id = 0
    while True:
        query = filtered(select(mentions), where).where(mentions.c.id > last_id).order_by(mentions.c.id)
        with engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(query.limit(chunk))]
            watches = watch_names(connection, [row["id"] for row in rows])
            topics = topics_of(connection, [row["id"] for row in rows])
        if not rows:
            return
        for row in rows:
            row["watches"] = watches.get(row["id"], [])
            found = topics.get(row["id"], [])
            row["topic_id"] = found[0].topic_id if found else None
            row["topic"] = found[0].name if found else None
            row["topics"] = [{"watch": t.watch, "id": t.topic_id, "name": t.name} for t in found]
            yield row
        last_id = rows[-1]["id"]


@dataclass(frozen=True)
class SourceCounts:
    stored: int
    pending: int


def counts_by_source(engine: Engine) -> dict[str, SourceCounts]:
    pending = func.sum(case((mentions.c.scored_at.is_(None), 1), else_=0))
    query = select(mentions.c.source, func.count(), pending).group_by(mentions.c.source)
    with engine.connect() as connection:
        return {row[0]: SourceCounts(int(row[1]), int(row[2] or 0)) for row in connection.execute(query)}


def count_unscored(engine: Engine) -> int:
    """Mentions waiting for their first score (by the index on scored_at, not a scan)."""
    query = select(func.count()).select_from(mentions).where(mentions.c.scored_at.is_(None))
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def count_mentions(engine: Engine, source: str | None = None) -> int:
    query = select(func.count()).select_from(mentions)
    if source is not None:
        query = query.where(and_(mentions.c.source == source))
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def distinct_sources(engine: Engine) -> list[str]:
    """The sources mentions are stored under, by hopping along the (source, ...) index: one probe per
    source instead of a scan of every mention, so it stays instant on a million."""
    query = text(
        "WITH RECURSIVE hop(source) AS ("
        " SELECT min(source) FROM mentions"
        " UNION ALL"
        " SELECT (SELECT min(m.source) FROM mentions m WHERE m.source > hop.source) FROM hop"
        " WHERE hop.source IS NOT NULL"
        ") SELECT source FROM hop WHERE source IS NOT NULL"
    )
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]
