"""A newly scored unhappy mention joins its watch's nearest topic at once, not at the next refit.

Called by the scoring job after each batch it commits (monitor/score/run.py): the batch's unhappy
mentions are embedded (one text per run, like scoring) and stored, then matched to each of their
watches' topic centroids. A watch without topics yet waits for its first refit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, Engine

from models.embedding import Embedder
from monitor.mention import utcnow
from monitor.store import topics as store
from monitor.store.topics import Assignment
from monitor.topics.cluster import nearest
from monitor.topics.embed import store_missing, vectors_for

NEAREST = "nearest"


def assign_new(
    engine: Engine,
    embedder: Callable[[], Embedder],
    mention_ids: Collection[int],
    *,
    now: datetime | None = None,
) -> int:
    """Put each unhappy mention of `mention_ids` in its nearest topic, per watch; returns how many
    (mention, watch) pairs were assigned. `embedder` is called only when some watch has topics and an
    unhappy mention to put in one: scoring in a store without topics never loads the encoder."""
    if not mention_ids:
        return 0
    now = now or utcnow()
    assigned = 0
    with engine.connect() as connection:
        by_watch = store.watches_of(connection, mention_ids)
        watches = sorted({w for names in by_watch.values() for w in names})
        waiting = {
            m.id: m
            for w in watches
            if store.watch_topics(connection, w)
            for m in store.unhappy_mentions(connection, w, ids=[i for i, ws in by_watch.items() if w in ws])
        }
    if not waiting:
        return 0
    # The encoder runs before the watches are locked: they are held for reads and writes only.
    store_missing(engine, embedder(), list(waiting.values()), now)
    with engine.begin() as connection:
        store.lock_watches(connection, watches)
        topics = {w: _targets(connection, w) for w in watches}
        for watch in watches:
            if not topics[watch]:
                continue
            ids = [i for i, names in by_watch.items() if watch in names]
            found = store.unhappy_mentions(connection, watch, ids=ids)
            if not found:
                continue
            vectors = vectors_for(connection, embedder(), found, now)
            centroids = np.asarray([c for c, _ in topics[watch]], dtype=np.float32)
            labels, similarity = nearest(vectors, centroids)
            rows = [
                Assignment(m.id, topics[watch][int(label)][1], float(sim))
                for m, label, sim in zip(found, labels, similarity, strict=True)
            ]
            sizes = Counter(row.topic_id for row in rows)
            sizes.subtract(store.current_topics(connection, watch, [row.mention_id for row in rows]).values())
            store.assign(connection, watch, rows, NEAREST, now)
            store.add_to_sizes(connection, sizes, now)
            assigned += len(rows)
    return assigned


def _targets(connection: Connection, watch: str) -> list[tuple[np.ndarray, int]]:
    """(centroid, topic id) to match against: each active topic, and each topic a person merged away,
    pointing at the topic it went into. None while the watch has no active topic."""
    active = store.watch_topics(connection, watch)
    if not active:
        return []
    ids = {t.id for t in active}
    merged = [
        (t.centroid, t.merged_into)
        for t in store.watch_topics(connection, watch, ("merged",))
        if t.pinned and t.merged_into in ids
    ]
    return [(t.centroid, t.id) for t in active] + [(c, int(i)) for c, i in merged if i is not None]
