"""A person's rename, merge and split of a watch's topics, each recorded (topic_events) under their name
and kept by later refits (refit.py says how)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import Connection, Engine

from monitor.errors import TopicError
from monitor.mention import utcnow
from monitor.store import topic_vectors
from monitor.store import topics as store
from monitor.store.topics import Assignment, Topic
from monitor.topics.cluster import fit

PERSON = "person"
MAX_NAME = 120


def _active(connection: Connection, topic_id: int) -> Topic:
    topic = store.get_topic(connection, topic_id)
    if topic is None or topic.status != "active":
        raise TopicError(f"no active topic {topic_id}: list them with `grumble topics`")
    return topic


def rename(engine: Engine, topic_id: int, name: str, actor: str, *, now: datetime | None = None) -> None:
    """Name a topic; the name stays through refits (its words may change; its name does not)."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise TopicError(f"a topic's name must be 1-{MAX_NAME} characters, like 'refunds · billing'")
    now = now or utcnow()
    with engine.begin() as connection:
        topic = _active(connection, topic_id)
        store.change_topic(connection, topic_id, now, name=name, named_by=actor)
        store.record_event(
            connection, topic.watch, topic_id, "renamed", actor, {"from": topic.name, "to": name}, now
        )


def merge(engine: Engine, topic_id: int, into: int, actor: str, *, now: datetime | None = None) -> None:
    """Fold a topic into another of the same watch: its mentions move. The merged topic is kept,
    pinned, with its centroid: a new mention nearest it, or a refit's cluster that is it again, goes
    into the topic it was merged into."""
    if topic_id == into:
        raise TopicError("a topic cannot be merged into itself: pick two different topics")
    now = now or utcnow()
    with engine.begin() as connection:
        source, target = _active(connection, topic_id), _active(connection, into)
        if source.watch != target.watch:
            raise TopicError(f"topics {topic_id} and {into} belong to different watches; merge within one")
        moved = store.members(connection, topic_id)
        store.assign(connection, target.watch, [Assignment(m, into, 0.0) for m in moved], PERSON, now)
        store.change_topic(connection, topic_id, now, status="merged", merged_into=into, pinned=True)
        store.recount(connection, target.watch, now)
        store.record_event(
            connection, target.watch, topic_id, "merged", actor, {"into": into, "moved": len(moved)}, now
        )


def split(engine: Engine, topic_id: int, actor: str, *, now: datetime | None = None) -> int:
    """Split a topic in two by its members' stored vectors (2-means); both halves are pinned, so a
    refit keeps them apart, and earlier merges into the topic stop pulling mentions back into it.
    Returns the new topic's id."""
    from monitor.topics.naming import name_clusters

    now = now or utcnow()
    with engine.begin() as connection:
        topic = _active(connection, topic_id)
        ids = store.members(connection, topic_id)
        vectors = topic_vectors.stored_vectors(
            connection, ids, topic_vectors.vector_version(connection, ids) or ""
        )
        ids = [i for i in ids if i in vectors]
        if len(ids) < 4:
            raise TopicError(f"topic {topic_id} has {len(ids)} mentions; a split needs at least 4")
        matrix = np.stack([vectors[i] for i in ids])
        halves = fit(matrix, np.asarray(ids, dtype=np.int64), 2)
        texts = {m.id: m.text for m in store.unhappy_mentions(connection, topic.watch, ids=ids)}
        names = name_clusters([texts.get(i, "") for i in ids], halves.labels, 2)
        # The half nearer the old centroid keeps the topic (its id and name); the other is new.
        keep = int(np.argmax(halves.centroids @ topic.centroid))
        other = 1 - keep
        moved = [i for i, label in zip(ids, halves.labels, strict=True) if label == other]
        new_id = store.add_topic(
            connection, topic.watch, names[other], halves.centroids[other], len(moved), now, pinned=True
        )
        store.assign(connection, topic.watch, [Assignment(m, new_id, 0.0) for m in moved], PERSON, now)
        store.change_topic(connection, topic_id, now, centroid=halves.centroids[keep], pinned=True)
        # The split is the person's latest word: topics merged into this one no longer pull back into it.
        for merged in store.watch_topics(connection, topic.watch, ("merged",)):
            if merged.merged_into == topic_id and merged.pinned:
                store.change_topic(connection, merged.id, now, pinned=False)
        store.recount(connection, topic.watch, now)
        store.record_event(
            connection, topic.watch, new_id, "split", actor, {"from": topic_id, "moved": len(moved)}, now
        )
    return new_id
