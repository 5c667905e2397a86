"""The complaint-topic tables (monitor/topics/): each watch's topics, which topic each mention is in, the
sentence vector of each mention (stored so a refit never recomputes it), and what happened to topics
(created, renamed, merged, split, retired), by a refit or by a person. schema.py re-exports them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import metadata

# One complaint topic of one watch. `status`: active (shown), merged (into `merged_into`, by a refit or a
# person) or retired (no longer found). A name a person gave (`named_by`) survives every refit; the
# refit's own c-TF-IDF name is kept apart in `auto_name`.
topics = Table(
    "topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("auto_name", Text, nullable=False),
    Column("named_by", String(128)),
    Column("seed", Text),  # the watch's seed topic this one anchors (config `topics = [...]`)
    Column("status", String(16), nullable=False, server_default="active"),
    Column("merged_into", Integer, ForeignKey("topics.id", ondelete="SET NULL")),
    # float32 unit vector, little-endian bytes: the centroid new mentions are matched to.
    Column("centroid", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False, server_default="0"),
    # Kept apart from the clustering by a person (a split): a refit starts from it rather than re-merging.
    Column("pinned", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_topics_watch_status", "watch", "status"),
)

# The topic a mention is in, per watch (a mention matched by two watches is in one topic of each).
# `how`: refit (clustered), nearest (joined as it was scored) or person (moved by a merge or split).
mention_topics = Table(
    "mention_topics",
    metadata,
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("watch", String(128), primary_key=True),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False),
    Column("similarity", Float, nullable=False),
    Column("how", String(12), nullable=False),
    Column("assigned_at", UTCDateTime(), nullable=False),
    Index("ix_mention_topics_topic", "topic_id", "mention_id"),
)

# A mention's sentence vector (float32 bytes) and the encoder that made it: a vector of another version
# is made again, never compared with this one.
mention_embeddings = Table(
    "mention_embeddings",
    metadata,
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("model_version", String(128), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("embedded_at", UTCDateTime(), nullable=False),
)

# What happened to a topic: created, renamed, merged, split, retired (by "refit" or a person's name),
# and emerged (its alert). `detail` says from what and to what.
topic_events = Table(
    "topic_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch", String(128), nullable=False),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE")),
    Column("kind", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_topic_events_watch_at", "watch", "at"),
)
