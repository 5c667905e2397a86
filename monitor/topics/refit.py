"""One watch's refit, in one transaction: cluster its unhappy mentions, keep each topic that is still
there under its id and name, record what was created, renamed, merged, split or retired.

What a person did survives:
- a rename (`named_by`): a kept topic keeps the person's name; only `auto_name` follows the words.
- a merge (the merged topic is kept, `pinned`, with its centroid): a cluster that comes back as that
  topic again is folded into the topic it was merged into.
- a split (the new topic is `pinned`): a pinned topic stays a centroid even when k-means would not
  have found it, and takes back the mentions nearer to it than to their cluster.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, Engine, select

from models.embedding import Embedder
from monitor.mention import Watch, utcnow
from monitor.store import topics as store
from monitor.store.schema import mention_topics
from monitor.store.topics import Assignment, Topic
from monitor.topics.cluster import MIN_MENTIONS, choose_k, fit, unit
from monitor.topics.embed import embed_phrases, store_missing, vectors_for
from monitor.topics.matching import closest, match
from monitor.topics.naming import SEPARATOR, brand_words, name_clusters

log = logging.getLogger(__name__)

REFIT = "refit"


@dataclass
class RefitOutcome:
    watch: str
    mentions: int = 0
    topics: int = 0
    kept: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    renamed: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    skipped: str | None = None

    def describe(self) -> str:
        if self.skipped:
            return f"{self.watch}: no refit ({self.skipped})"
        return (
            f"{self.watch}: {self.topics} topics over {self.mentions} unhappy mentions "
            f"({len(self.kept)} kept, {len(self.created)} new, {len(self.merged)} merged, "
            f"{len(self.retired)} retired, {len(self.renamed)} renamed)"
        )


def watch_words(watch: Watch) -> set[str]:
    """The words that never name a topic of this watch: its keywords, brand and product."""
    return brand_words([*watch.keywords, *watch.required, watch.brand or "", watch.product or ""])


def refit_watch(
    engine: Engine, embedder: Embedder, watch: Watch, *, now: datetime | None = None
) -> RefitOutcome:
    now = now or utcnow()
    with engine.connect() as connection:
        found = store.unhappy_mentions(connection, watch.name)
    if len(found) >= MIN_MENTIONS:
        store_missing(engine, embedder, found, now)
    with engine.begin() as connection:
        return _refit(connection, embedder, watch, now)


def _refit(connection: Connection, embedder: Embedder, watch: Watch, now: datetime) -> RefitOutcome:
    outcome = RefitOutcome(watch.name)
    found = store.unhappy_mentions(connection, watch.name)
    outcome.mentions = len(found)
    if len(found) < MIN_MENTIONS:
        outcome.skipped = f"{len(found)} unhappy mentions; topics start at {MIN_MENTIONS}"
        return outcome
    vectors = unit(vectors_for(connection, embedder, found, now))
    ids = np.asarray([m.id for m in found], dtype=np.int64)
    old = store.watch_topics(connection, watch.name)
    # Pinned (a person's split) and seeded topics first: they stay anchors when there are too many.
    old.sort(key=lambda t: (not t.pinned, t.seed is None, -t.size, t.id))
    # A seed gets a topic once: a person may merge it away, and a refit does not bring it back.
    seeded = {t.seed for t in store.watch_topics(connection, watch.name, ("active", "merged", "retired"))}
    new_seeds = [s for s in watch.topics if s not in seeded]
    anchors = [t.centroid for t in old]
    seed_vectors = embed_phrases(embedder, new_seeds) if new_seeds else np.zeros((0, vectors.shape[1]))
    anchors += list(seed_vectors)
    # Topics a person or a seed asks for always count; with new seeds, one more to discover.
    asked = sum(1 for t in old if t.pinned or t.seed) + len(new_seeds) + (1 if new_seeds else 0)
    k = choose_k(len(found), asked, previous=len(old))
    clusters = fit(vectors, ids, k, np.asarray(anchors[:k], dtype=np.float32) if anchors else None)
    labels, centroids = clusters.labels, clusters.centroids
    labels, centroids = _keep_pinned(vectors, labels, centroids, old)
    names = name_clusters([m.text for m in found], labels, len(centroids), watch_words(watch))
    # Held from here to the commit, not while clustering (SQLite's write lock stops every writer): an
    # assignment waits for the new topics instead of landing in one the refit is replacing.
    store.lock_watches(connection, [watch.name])
    before = _previous(connection, watch.name)
    # A topic a person merged away stays a centroid of its own, pointing at the topic it went into.
    active_ids = {t.id for t in old}
    merged_away = [
        t
        for t in store.watch_topics(connection, watch.name, ("merged",))
        if t.pinned and t.merged_into in active_ids
    ]
    pairs = match(np.asarray([t.centroid for t in [*old, *merged_away]]), centroids)
    seed_of = _seed_clusters(seed_vectors, new_seeds, centroids, labels, set(pairs))

    topic_of: dict[int, int] = {}  # cluster -> topic id
    for cluster in range(len(centroids)):
        members = labels == cluster
        size = int(members.sum())
        if size == 0:
            continue
        if cluster in pairs and pairs[cluster] >= len(old):
            into = merged_away[pairs[cluster] - len(old)].merged_into
            assert into is not None  # merged_away holds only topics merged into an active one
            topic_of[cluster] = into
            continue
        if cluster in pairs:
            topic = old[pairs[cluster]]
            topic_of[cluster] = topic.id
            outcome.kept.append(topic.id)
            _update_kept(connection, topic, centroids[cluster], size, names[cluster], now, outcome)
            continue
        seed = seed_of.get(cluster)
        topic_id = store.add_topic(
            connection, watch.name, seed or names[cluster], centroids[cluster], size, now, seed=seed
        )
        if seed:
            store.change_topic(connection, topic_id, now, auto_name=names[cluster])
        topic_of[cluster] = topic_id
        outcome.created.append(topic_id)
        split_from = _majority([before.get(int(i)) for i in ids[members]])
        detail = {"name": seed or names[cluster], "size": size}
        if split_from is not None and split_from in topic_of.values():
            detail["split_from"] = split_from
        store.record_event(connection, watch.name, topic_id, "created", REFIT, detail, now)

    kept_ids = set(topic_of.values())
    for topic in old:
        if topic.id in kept_ids:
            continue
        went_to = _majority(
            [topic_of.get(int(labels[row])) for row, i in enumerate(ids) if before.get(int(i)) == topic.id]
        )
        if went_to is not None and went_to != topic.id:
            store.change_topic(connection, topic.id, now, status="merged", merged_into=went_to, size=0)
            store.record_event(connection, watch.name, topic.id, "merged", REFIT, {"into": went_to}, now)
            outcome.merged.append(topic.id)
        else:
            store.change_topic(connection, topic.id, now, status="retired", size=0)
            store.record_event(connection, watch.name, topic.id, "retired", REFIT, {"name": topic.name}, now)
            outcome.retired.append(topic.id)

    rows = [
        Assignment(int(mention_id), topic_of[int(label)], float(sim))
        for mention_id, label, sim in zip(ids, labels, _similarities(vectors, labels, centroids), strict=True)
    ]
    store.replace_assignments(connection, watch.name, rows, REFIT, now, kept_ids)
    store.recount(connection, watch.name, now)
    outcome.topics = len(kept_ids)
    log.info("topics refit %s", outcome.describe())
    return outcome


def _update_kept(
    connection: Connection,
    topic: Topic,
    centroid: np.ndarray,
    size: int,
    auto_name: str,
    now: datetime,
    outcome: RefitOutcome,
) -> None:
    """A kept topic keeps its name unless nobody chose it and its words have changed entirely."""
    values: dict[str, object] = {"centroid": centroid, "size": size, "auto_name": auto_name}
    if topic.named_by is None and topic.seed is None and not _share_terms(topic.name, auto_name):
        values["name"] = auto_name
        store.record_event(
            connection, topic.watch, topic.id, "renamed", REFIT, {"from": topic.name, "to": auto_name}, now
        )
        outcome.renamed.append(topic.id)
    store.change_topic(connection, topic.id, now, **values)


def _share_terms(a: str, b: str) -> bool:
    return bool(set(a.split(SEPARATOR)) & set(b.split(SEPARATOR)))


def _keep_pinned(
    vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray, old: Sequence[Topic]
) -> tuple[np.ndarray, np.ndarray]:
    """A pinned topic k-means did not find again is added back as a centroid of its own."""
    pinned = [t for t in old if t.pinned]
    if not pinned:
        return labels, centroids
    found = match(np.asarray([t.centroid for t in pinned]), centroids)
    lost = [t for i, t in enumerate(pinned) if i not in found.values()]
    if not lost:
        return labels, centroids
    everything = np.vstack([centroids, np.asarray([t.centroid for t in lost])]).astype(np.float32)
    relabelled, _ = closest(vectors, everything)
    return relabelled, everything


def _seed_clusters(
    seed_vectors: np.ndarray,
    seeds: Sequence[str],
    centroids: np.ndarray,
    labels: np.ndarray,
    taken: set[int],
) -> dict[int, str]:
    """{cluster: seed} for the new seeds: each to the free, non-empty cluster nearest it (one each)."""
    free = [c for c in range(len(centroids)) if c not in taken and (labels == c).any()]
    if not seeds or not free:
        return {}
    pairs = match(unit(seed_vectors.astype(np.float32)), centroids[free], threshold=-1.0)
    return {free[cluster]: seeds[seed] for cluster, seed in pairs.items()}


def _previous(connection: Connection, watch: str) -> dict[int, int]:
    rows = connection.execute(
        select(mention_topics.c.mention_id, mention_topics.c.topic_id).where(mention_topics.c.watch == watch)
    )
    return {int(m): int(t) for m, t in rows}


def _majority(values: Sequence[int | None]) -> int | None:
    counted = Counter(v for v in values if v is not None)
    if not counted:
        return None
    value, count = counted.most_common(1)[0]
    # Most of them, not just the largest share: a topic scattered over many is retired, not merged.
    return value if count * 2 > len(values) else None


def _similarities(vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    similarity: np.ndarray = np.einsum("ij,ij->i", vectors, centroids[labels])
    return similarity
