"""The mention tables: `metadata`, a mention with its score and the inbox's orders, and the rows that hang on
one mention (corrected labels, earlier versions, the whole text, its watches, its events). schema.py adds
the other tables to this `metadata` and re-exports these; import them from there."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.elements import ColumnElement

from monitor.store.dialects import UTCDateTime

metadata = MetaData()


mentions = Table(
    "mentions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("external_id", String(512), nullable=False),
    Column("text", Text, nullable=False),
    Column("title", Text),
    Column("author", String(256)),
    Column("url", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("collected_at", UTCDateTime(), nullable=False),
    Column("author_reach", BigInteger),
    Column("engagement", BigInteger),
    Column("rating", Float),
    Column("parent_id", String(512)),
    Column("language", String(16)),
    Column("metrics", JSON),
    Column("raw", JSON),
    # The current score; re-scoring with another model version overwrites it.
    Column("label", String(10)),
    Column("negative", Float),
    Column("neutral", Float),
    Column("positive", Float),
    Column("detected_language", String(16)),
    # What the model read in the text alone, and what decided `label` (verdict.py): text, stars, language.
    Column("text_label", String(10)),
    Column("label_basis", String(10)),
    Column("model_version", String(128)),
    # The watch's calibration that shifted this score (store/calibration_tables.py); None: the model's own.
    Column("calibration_id", Integer),
    Column("scored_at", UTCDateTime()),
    # log(priority) without its time-dependent term: ordering by it is ordering by priority (ranking.py).
    Column("rank_key", Float),
    # Triage: open, handled, or dismissed (spam, not about us).
    Column("triage", String(16), nullable=False, server_default="open"),
    Column("triaged_at", UTCDateTime()),
    Column("triaged_by", String(128)),
    # When the source said the author deleted it (a stream's delete event): it leaves the inbox.
    Column("deleted_at", UTCDateTime()),
    UniqueConstraint("source", "external_id", name="uq_mentions_source_external_id"),
    Index("ix_mentions_label_created", "label", "created_at"),
    Index("ix_mentions_created", "created_at"),
    Index("ix_mentions_scored_at", "scored_at"),
    Index("ix_mentions_author", "source", "author", "created_at"),
    Index("ix_mentions_parent", "source", "parent_id"),
)


# The columns of a mention's current score, in the order of the table: the scoring job writes them all
# (store/mentions.py write_scores), and an edit clears them all (store/edits.py).
SCORE_COLUMNS = (
    "label",
    "negative",
    "neutral",
    "positive",
    "detected_language",
    "text_label",
    "label_basis",
    "model_version",
    "calibration_id",
    "scored_at",
    "rank_key",
)

# The inbox's orders (store/inbox.py SORTS adds "newest", which walks ix_mentions_created), each with an
# index in that very order after the triage and label the inbox filters on, so its first page is a walk
# along one index that stops after 25 rows. Each order ends on id: pages never repeat or skip a mention
# between two equal keys. Unscored mentions (no key yet) come last.
_m = mentions.c
INBOX_ORDERS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "priority": (_m.rank_key.desc().nulls_last(), _m.created_at.desc(), _m.id.desc()),
    # The author's audience, then the post's own reactions; ties by priority.
    "reach": (
        _m.author_reach.desc().nulls_last(),
        _m.engagement.desc().nulls_last(),
        _m.rank_key.desc().nulls_last(),
        _m.id.desc(),
    ),
    # What the model read in the text: P(negative).
    "most negative": (_m.negative.desc().nulls_last(), _m.rank_key.desc().nulls_last(), _m.id.desc()),
}
for _name, _order in (
    ("ix_mentions_inbox", "priority"),
    ("ix_mentions_inbox_reach", "reach"),
    ("ix_mentions_inbox_negative", "most negative"),
):
    Index(_name, _m.triage, _m.label, *INBOX_ORDERS[_order])


label_feedback = Table(
    "label_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("model_label", String(10)),
    Column("model_version", String(128)),
    Column("corrected_label", String(10), nullable=False),
    Column("corrected_by", String(128), nullable=False),
    Column("corrected_at", UTCDateTime(), nullable=False),
    Index("ix_label_feedback_mention", "mention_id"),
)

# Earlier versions of an edited mention (store/edits.py): what it said before each edit, numbered
# from 1, the oldest; the mention's row always holds the latest.
mention_versions = Table(
    "mention_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("title", Text),
    Column("rating", Float),
    Column("language", String(16)),
    Column("raw", JSON),
    Column("seen_at", UTCDateTime(), nullable=False),  # when this version was collected
    Column("replaced_at", UTCDateTime(), nullable=False),  # when the edit replacing it was
    UniqueConstraint("mention_id", "version", name="uq_mention_versions_mention_version"),
)

# The whole text of a mention cut to mention.MAX_TEXT_CHARS: read only to download it (mention page).
mention_full_texts = Table(
    "mention_full_texts",
    metadata,
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("characters", BigInteger, nullable=False),
)

mention_watches = Table(
    "mention_watches",
    metadata,
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("watch", String(128), primary_key=True),
    Index("ix_mention_watches_watch", "watch", "mention_id"),
)

# Who did what to a mention, when: triage and label changes (the case history the mention page shows).
mention_events = Table(
    "mention_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("before", String(64)),
    Column("after", String(64)),
    Column("note", Text),
    Column("actor", String(128), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_mention_events_mention", "mention_id", "at"),
)
